using System.Buffers;
using System.Text;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Ingestion.Mapping;
using Tessera.Ingestion.Validation;

namespace Tessera.Ingestion.Tests;

/// <summary>
/// A CSV row validated straight from its cells (<see cref="TabularConverter.Validate"/>) gives exactly what the JSON way gives:
/// the row written as JSON by <see cref="TabularConverter.Write"/>, parsed, and validated by <see cref="RecordValidator.Validate"/>.
/// Random mappings (nested, unknown and open fields, identity maps, formats, a primary namespace) over random cells, valid and not.
/// </summary>
public sealed class TabularValidationProperties
{
    private static readonly NamespaceResolver Namespaces = new(StandardNamespaces.All);

    private static string ProfileSchema(string unknownFields) => """
        {"name":"p","class":"profile","unknownFields":"POLICY","fields":{
          "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "email":{"type":"string","identity":{"namespace":"Email"}},
          "phone":{"type":"string","identity":{"namespace":"Phone"}},
          "name":{"type":"string","maxLength":8},
          "tier":{"type":"string","enum":["bronze","silver","gold"]},
          "zip":{"type":"string","pattern":"^[0-9]{5}$"},
          "age":{"type":"int","min":0,"max":150},
          "visits":{"type":"long"},
          "score":{"type":"double","min":0,"max":1000},
          "vip":{"type":"bool"},
          "birthDate":{"type":"date"},
          "seen":{"type":"date-time"},
          "address":{"type":"object","fields":{"city":{"type":"string","required":true},"street":{"type":"string"},
            "geo":{"type":"object","fields":{"lat":{"type":"double"}}}}},
          "context":{"type":"object","open":true,"fields":{"source":{"type":"string"}}},
          "meta":{"type":"object","fields":{"updated":{"type":"date-time","lastUpdated":true}}}}}
        """.Replace("POLICY", unknownFields, StringComparison.Ordinal);

    private static string EventSchema(string unknownFields) => """
        {"name":"e","class":"event","unknownFields":"POLICY","fields":{
          "customerId":{"type":"string","identity":{"namespace":"CRMID"}},
          "amount":{"type":"double"},
          "qty":{"type":"int","min":1},
          "day":{"type":"date"},
          "page":{"type":"object","fields":{"name":{"type":"string","required":true},"url":{"type":"string"}}}}}
        """.Replace("POLICY", unknownFields, StringComparison.Ordinal);

    private static readonly string[] ProfilePaths =
    [
        "crmId", "email", "phone", "name", "tier", "zip", "age", "visits", "score", "vip", "birthDate", "seen", "address.city",
        "address.street", "address.geo.lat", "context.source", "context.extra", "context.deep.x", "extra", "address.extra",
        "identityMap.Email", "identityMap.ECID", "identityMap.NOPE", "meta.updated",
    ];

    private static readonly string[] EventPaths =
    [
        "_id", "timestamp", "customerId", "amount", "qty", "day", "page.name", "page.url", "page.extra", "identityMap.ECID",
        "identityMap.Email", "extra",
    ];

    private static readonly string[] Texts =
        ["", "a", "gold", "silver", "Gold", "12345", "1234", "longer than eight", "é€😀", "null", "n/a", "  x  ", "quote\"back\\slash",
            "<tag>&", new string('z', 300), "undefined"];

    private static readonly string[] Integers =
        ["0", "-1", "+5", "150", "151", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "0005", " 12", "1.5",
            "abc", "-0"];

    private static readonly string[] Reals =
        ["0", "1.5", "-0", "-0.0", "1e3", "1E+20", "NaN", "Infinity", "-Infinity", "1e999", "abc", "1,5", "  2", "1000.0001", "0.1",
            "123456789.123456789"];

    private static readonly string[] Bools = ["true", "false", "1", "0", "Y", "n", "T", " yes ", "maybe", "TRUE"];

    private static readonly string[] Dates =
        ["2024-02-29", "2023-02-29", "2024-1-5", "1/2/2024", "20240105", "0001-01-01", "9999-12-31", "abc", "2024-01-05T00:00:00Z"];

    private static readonly string[] Instants =
        ["2024-01-05T10:00:00Z", "2024-01-05T10:00:00.1234567+02:00", "2024-01-05 10:00:00", "2024-01-05", "1700000000000",
            "99999999999999999999", "999999999999999999", "20240105103000", "1/2/2024 3:04", "abc", "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59.9999999Z", "2024-01-05T10:00:00.999Z", "2024-01-05 10:00:00.1234567", "0001-01-01 00:00:00.0000001"];

    private static readonly string[] Emails = ["a@b.com", " A@B.COM ", "not-an-email", "null", "x@y", "first.last+tag@example.org"];

    private static readonly string[] Phones = ["+14155550123", "4155550123", "abc", "0000000000", "+33 1 42 68 53 00"];

    private static readonly string[] Ids = ["c1", "0001", "-1", "unknown", "  ", "c2", "12345678901234567890", "NULL"];

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_row_validated_from_its_cells_equals_the_row_validated_as_JSON(int seed)
    {
        var random = new Random(seed);
        var isEvent = seed % 3 == 0;
        var policy = random.Next(2) == 0 ? "reject" : "drop";
        var schema = Compile(isEvent ? EventSchema(policy) : ProfileSchema(policy));
        var pool = isEvent ? EventPaths : ProfilePaths;
        var paths = pool.Where(_ => random.Next(3) > 0).ToList();
        if (!paths.Contains(isEvent ? "customerId" : "crmId"))
        {
            paths.Add(isEvent ? "customerId" : "crmId");
        }
        var columns = paths.Select(p => "c_" + p.Replace('.', '_')).ToList();
        var formats = new Dictionary<string, string>();
        for (var i = 0; i < paths.Count; i++)
        {
            if (schema.Resolve(paths[i]) is { } field && random.Next(2) == 0)
            {
                if (field.Type == FieldType.Date)
                {
                    formats[columns[i]] = random.Next(2) == 0 ? "M/d/yyyy" : "yyyyMMdd";
                }
                else if (field.Type == FieldType.DateTime)
                {
                    formats[columns[i]] = random.Next(3) switch { 0 => "yyyyMMddHHmmss", 1 => "M/d/yyyy H:mm", _ => "yyyy-MM-dd HH:mm:ss.FFFFFFF" };
                }
            }
        }
        var mapping = new MappingSpec
        {
            Fields = columns.Zip(paths).ToDictionary(p => p.First, p => (string?)p.Second),
            Formats = formats,
            PrimaryIdentity = random.Next(3) switch { 0 => null, 1 => "ECID", _ => "Email" },
        };
        var converter = new TabularConverter(columns, mapping, schema);
        var validator = new RecordValidator(schema, new IngestionLimits(), Namespaces);
        var direct = 0;
        for (var row = 1; row <= 300; row++)
        {
            var values = paths.Select(p => (object?)Cell(random, schema.Resolve(p))).ToArray();
            if (!converter.CanValidate(values, new IngestionLimits().MaxRecordBytes))
            {
                continue;
            }
            direct++;
            var (expectedJson, expected) = AsJson(converter, validator, values, row);
            var (actualJson, actual) = FromCells(converter, validator, values, row);
            var context = $"seed {seed}, row {row}: {string.Join(" | ", paths.Zip(values).Select(p => $"{p.First}={p.Second}"))}";
            Assert.True(expected.Errors.SequenceEqual(actual.Errors),
                $"{context}\nexpected errors {string.Join("; ", expected.Errors)}\nactual {string.Join("; ", actual.Errors)}");
            Assert.True(expected.Identities.SequenceEqual(actual.Identities), $"{context}: identities");
            Assert.True(expected.DroppedIdentities.SequenceEqual(actual.DroppedIdentities), $"{context}: dropped identities");
            Assert.True(expected.EventId == actual.EventId, $"{context}: event id {expected.EventId} / {actual.EventId}");
            Assert.True(Same(expected.Timestamp, actual.Timestamp), $"{context}: timestamp {expected.Timestamp:O} / {actual.Timestamp:O}");
            Assert.True(Same(expected.LastUpdated, actual.LastUpdated), $"{context}: lastUpdated {expected.LastUpdated:O} / {actual.LastUpdated:O}");
            Assert.True(expected.LeafCount == actual.LeafCount, $"{context}: leaves {expected.LeafCount} / {actual.LeafCount}");
            if (expected.IsValid)
            {
                Assert.True(expectedJson == actualJson, $"{context}\nexpected {expectedJson}\nactual   {actualJson}");
            }
        }
        Assert.Equal(300, direct); // every mapping above is one the cells' way reads: nothing here is left to the JSON way
    }

    [Fact]
    public void Mappings_the_cells_way_cannot_read_take_the_JSON_way()
    {
        var schema = Compile(ProfileSchema("drop"));
        string[] columns = ["id", "other"];
        (string Path, object? Value)[] cases =
        [
            ("address", "a column into an object"),
            ("xdm:identityMap", "an alias of the identity map"),
            ("identityMap", "the identity map as one cell"),
        ];
        foreach (var (path, value) in cases)
        {
            var mapping = new MappingSpec { Fields = new Dictionary<string, string?> { ["id"] = "crmId", ["other"] = path } };
            Assert.False(new TabularConverter(columns, mapping, schema).CanValidate(["c1", value], int.MaxValue), path);
        }
        var plain = new TabularConverter(columns, new MappingSpec { Fields = new Dictionary<string, string?> { ["id"] = "crmId", ["other"] = "age" } }, schema);
        Assert.True(plain.CanValidate(["c1", "12"], int.MaxValue));
        Assert.False(plain.CanValidate(["c1", 12L], int.MaxValue)); // a typed (Parquet) value
        Assert.False(plain.CanValidate(["c1", new string('9', 1000)], 2000)); // its JSON might pass the record size limit: measured that way
    }

    private static bool Same(DateTimeOffset? a, DateTimeOffset? b) => a?.UtcTicks == b?.UtcTicks && a?.Offset == b?.Offset;

    private static string? Cell(Random random, CompiledField? field)
    {
        if (random.Next(10) == 0)
        {
            return random.Next(2) == 0 ? null : "";
        }
        var pool = random.Next(8) == 0 ? Texts : field switch
        {
            null => Texts,
            { Identity.Namespace: "Email" } => Emails,
            { Identity.Namespace: "Phone" } => Phones,
            { Identity: not null } or { Name: "_id" } => Ids,
            { Type: FieldType.Int or FieldType.Long } => Integers,
            { Type: FieldType.Double } => Reals,
            { Type: FieldType.Bool } => Bools,
            { Type: FieldType.Date } => Dates,
            { Type: FieldType.DateTime } => Instants,
            _ => Texts,
        };
        return pool[random.Next(pool.Length)];
    }

    private static (string Json, ValidationResult Result) AsJson(TabularConverter converter, RecordValidator validator, object?[] values, long row)
    {
        var converted = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(converted, Options))
        {
            converter.Write(values, row, writer);
        }
        using var document = JsonDocument.Parse(converted.WrittenMemory);
        var output = new ArrayBufferWriter<byte>();
        var result = new ValidationResult();
        using (var writer = new Utf8JsonWriter(output, Options))
        {
            validator.Validate(document.RootElement, writer, result);
        }
        return (Encoding.UTF8.GetString(output.WrittenSpan), result);
    }

    private static (string Json, ValidationResult Result) FromCells(TabularConverter converter, RecordValidator validator, object?[] values, long row)
    {
        var output = new ArrayBufferWriter<byte>();
        var result = new ValidationResult();
        using (var writer = new Utf8JsonWriter(output, Options))
        {
            converter.Validate(values, row, validator, writer, result);
        }
        return (Encoding.UTF8.GetString(output.WrittenSpan), result);
    }

    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static CompiledSchema Compile(string json) =>
        SchemaCompiler.Compile(JsonSerializer.Deserialize(json, CatalogJson.Default.SchemaDocument)! with { Version = 1 }, _ => true);
}
