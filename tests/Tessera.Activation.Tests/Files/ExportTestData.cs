using System.IO.Compression;
using nietras.SeparatedValues;
using Parquet;
using Parquet.Schema;
using Tessera.Activation.Files;

namespace Tessera.Activation.Tests.Files;

/// <summary>A temporary folder per test, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tessera-files-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string[] FileNames() => [.. Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal)!];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}

/// <summary>Builds delivery records and reads exported files back with the libraries the formats name.</summary>
internal static class ExportTestData
{
    public static readonly DateTimeOffset RunAt = new(2026, 11, 29, 5, 6, 7, TimeSpan.Zero);

    public static DeliveryRecord Member(string? email, params (string Name, string? Value)[] attributes) =>
        Record(DeliveryOperation.Add, email, attributes);

    public static DeliveryRecord Record(DeliveryOperation operation, string? email, params (string Name, string? Value)[] attributes) =>
        new(0, "aud-1", "p-" + email, operation, RunAt,
            email is null ? [] : [new MatchKey("email", email)],
            [.. attributes.Select(a => new KeyValuePair<string, string?>(a.Name, a.Value))]);

    /// <summary>Members m0000..m{count-1} with an email, a first name and a tier.</summary>
    public static IEnumerable<DeliveryRecord> Members(int count) =>
        Enumerable.Range(0, count).Select(i => Member($"m{i:D4}@example.com", ("firstName", $"Name {i}"), ("tier", (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture))));

    public static readonly string[] MemberColumns = ["email", "firstName", "tier"];

    public static Stream OpenRead(string path)
    {
        Stream file = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    /// <summary>A CSV file's header and rows as Sep reads them, quotes removed.</summary>
    public static (string[] Header, List<string[]> Rows) ReadCsv(string path, char delimiter = ',')
    {
        using var stream = OpenRead(path);
        using var reader = Sep.New(delimiter).Reader(o => o with { Unescape = true }).From(stream);
        var header = reader.Header.ColNames.ToArray();
        var rows = new List<string[]>();
        foreach (var row in reader)
        {
            var values = new string[row.ColCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = row[i].ToString();
            }
            rows.Add(values);
        }
        return (header, rows);
    }

    public static List<System.Text.Json.JsonElement> ReadJsonLines(string path)
    {
        using var stream = OpenRead(path);
        using var text = new StreamReader(stream);
        var lines = new List<System.Text.Json.JsonElement>();
        while (text.ReadLine() is { } line)
        {
            using var document = System.Text.Json.JsonDocument.Parse(line);
            lines.Add(document.RootElement.Clone());
        }
        return lines;
    }

    /// <summary>A Parquet file's column names, row-group sizes and rows (strings, null kept).</summary>
    public static async Task<(string[] Columns, List<long> RowGroups, List<string?[]> Rows)> ReadParquetAsync(string path)
    {
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.GetDataFields();
        var groups = new List<long>();
        var rows = new List<string?[]>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.OpenRowGroupReader(g);
            groups.Add(group.RowCount);
            var columns = new List<string?[]>();
            foreach (DataField field in fields)
            {
                var values = new string?[group.RowCount];
                await group.ReadAsync(field, values.AsMemory()!, null);
                columns.Add(values);
            }
            for (var r = 0; r < group.RowCount; r++)
            {
                rows.Add([.. columns.Select(c => c[r])]);
            }
        }
        return ([.. fields.Select(f => f.Name)], groups, rows);
    }

    public static FileExportSettings Settings(string folder, FileExportFormat format = FileExportFormat.Csv) => new()
    {
        Format = format,
        Folder = folder,
    };
}
