using System.Text.Json;

namespace Tessera.Profiles.Fragments;

/// <summary>One field a record writes: a whole value, an explicit null, or a union's elements or entries.</summary>
public sealed record FieldWrite(string Path, FieldKind Kind, string? Value, IReadOnlyList<string>? Elements = null,
    IReadOnlyList<KeyValuePair<string, string?>>? Entries = null)
{
    /// <summary>An explicit null: erases the field (and, on an object, everything below it) as of the record's stamp.</summary>
    public bool IsNull => Value is null && Elements is null && Entries is null;
}

/// <summary>
/// One stored version of a profile record, flattened for folding: every field it writes, by dotted
/// path, with the record's stamp and batch. Objects of declared fields are flattened to their
/// leaves; a field the record leaves out is not written at all (it is not erased).
/// </summary>
public sealed record RecordVersion(Stamp Stamp, string Batch, IReadOnlyList<FieldWrite> Writes)
{
    /// <summary>Reads the stored form written by ingestion (<c>record</c>, <c>batch</c>, <c>time</c>, <c>order</c>, <c>row</c>).</summary>
    public static RecordVersion Parse(ReadOnlySpan<byte> stored, FieldShape shape)
    {
        var reader = new Utf8JsonReader(stored);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var time = root.TryGetProperty("time", out var t) ? t.GetDateTimeOffset() : root.GetProperty("ingestedAt").GetDateTimeOffset();
        var order = root.TryGetProperty("order", out var o) ? o.GetInt64() : 0;
        var row = root.TryGetProperty("row", out var r) ? r.GetInt64() : 0;
        var writes = new List<FieldWrite>();
        Flatten(root.GetProperty("record"), "", shape, writes);
        return new RecordVersion(new Stamp(time.UtcTicks, order, row), root.GetProperty("batch").GetString()!, writes);
    }

    /// <summary>Flattens a record given as JSON (tests and tools).</summary>
    public static IReadOnlyList<FieldWrite> Flatten(JsonElement record, FieldShape shape)
    {
        var writes = new List<FieldWrite>();
        Flatten(record, "", shape, writes);
        return writes;
    }

    private static void Flatten(JsonElement value, string prefix, FieldShape shape, List<FieldWrite> writes)
    {
        foreach (var property in value.EnumerateObject())
        {
            var path = prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}";
            var kind = shape.KindOf(path);
            var field = property.Value;
            if (field.ValueKind == JsonValueKind.Null)
            {
                writes.Add(new FieldWrite(path, kind, null));
                continue;
            }
            switch (kind)
            {
                case FieldKind.Object when field.ValueKind == JsonValueKind.Object:
                    Flatten(field, path, shape, writes);
                    break;
                case FieldKind.UnionArray when field.ValueKind == JsonValueKind.Array:
                    writes.Add(new FieldWrite(path, kind, null, [.. field.EnumerateArray().Select(e => e.GetRawText())]));
                    break;
                case FieldKind.UnionMap when field.ValueKind == JsonValueKind.Object:
                    writes.Add(new FieldWrite(path, kind, null, null,
                        [.. field.EnumerateObject().Select(e => new KeyValuePair<string, string?>(e.Name, e.Value.ValueKind == JsonValueKind.Null ? null : e.Value.GetRawText()))]));
                    break;
                default:
                    writes.Add(new FieldWrite(path, FieldKind.Value, field.GetRawText()));
                    break;
            }
        }
    }
}
