using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Tessera.Activation.Files;

/// <summary>
/// The names of an export run's files. A run is named <c>&lt;destination&gt;_&lt;audienceId&gt;_&lt;yyyyMMddHHmmss&gt;</c>
/// (the run time in UTC), so running the same run again gives the same names. The two ids are
/// encoded so that a name never holds an underscore of its own: the name splits on <c>_</c> into
/// exactly destination, audience, time (and part), and two different runs never share a name.
/// </summary>
public static class ExportFileNames
{
    /// <summary>Suffix of a file being written; it is renamed to its final name once complete and on disk.</summary>
    public const string StagingSuffix = ".tmp";

    /// <summary>The longest an encoded id may be; longer ones are cut and end in a hash of the whole id.</summary>
    public const int MaxIdLength = 80;

    private const string PartMarker = "_part";

    /// <summary>
    /// An id as it appears in a file name: ASCII letters, digits, <c>-</c> and <c>.</c> stay as they are
    /// (a leading <c>.</c> excepted, which would hide the file); every other character, the
    /// underscore included, becomes <c>%XX</c> per byte of its UTF-8 form, as in a URL. Above
    /// <see cref="MaxIdLength"/> characters the encoded id is cut and ends with <c>~</c> and 16 hex
    /// digits of the SHA-256 of the id (a <c>~</c> in an id is always encoded, so this cannot clash).
    /// </summary>
    public static string EncodeId(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var builder = new StringBuilder(id.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if (char.IsAsciiLetterOrDigit(c) || c == '-' || (c == '.' && i > 0))
            {
                builder.Append(c);
                continue;
            }
            var length = char.IsHighSurrogate(c) && i + 1 < id.Length && char.IsLowSurrogate(id[i + 1]) ? 2 : 1;
            var written = Encoding.UTF8.GetBytes(id.AsSpan(i, length), utf8);
            for (var b = 0; b < written; b++)
            {
                builder.Append('%').Append(utf8[b].ToString("X2", CultureInfo.InvariantCulture));
            }
            i += length - 1;
        }
        if (builder.Length <= MaxIdLength)
        {
            return builder.ToString();
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)).AsSpan(0, 8));
        var keep = MaxIdLength - 17;
        // Never cut an escape in half.
        var percent = builder.ToString(0, keep).LastIndexOf('%');
        if (percent >= keep - 2)
        {
            keep = percent;
        }
        return builder.ToString(0, keep) + "~" + hash;
    }

    /// <summary>The run's name, which every one of its files starts with.</summary>
    public static string RunName(string destination, string audienceId, DateTimeOffset runAt) =>
        $"{EncodeId(destination)}_{EncodeId(audienceId)}_{runAt.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}";

    /// <summary>The extension of a format: <c>.csv</c>, <c>.csv.gz</c>, <c>.jsonl</c>, <c>.jsonl.gz</c> or <c>.parquet</c>.</summary>
    public static string Extension(FileExportFormat format, bool gzip) => format switch
    {
        FileExportFormat.Csv => gzip ? ".csv.gz" : ".csv",
        FileExportFormat.JsonLines => gzip ? ".jsonl.gz" : ".jsonl",
        FileExportFormat.Parquet => ".parquet",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>
    /// The final name of part <paramref name="part"/> (from 1) of <paramref name="parts"/>: a run
    /// written as one file has no part suffix; a split run has <c>_part0001</c>, <c>_part0002</c>, ...
    /// on every part, the first included.
    /// </summary>
    public static string FileName(string runName, string extension, int part, int parts) =>
        parts == 1 ? runName + extension : PartName(runName, extension, part);

    /// <summary>The staging name of part <paramref name="part"/> while it is written (the part count is not known yet).</summary>
    public static string StagingName(string runName, string extension, int part) =>
        PartName(runName, extension, part) + StagingSuffix;

    /// <summary>Whether <paramref name="fileName"/> is a file of the run <paramref name="runName"/> (final or staging, any format).</summary>
    public static bool BelongsToRun(string fileName, string runName) =>
        fileName.Length > runName.Length
        && fileName.StartsWith(runName, StringComparison.Ordinal)
        // The run name ends in 14 digits; what follows is an extension or the part marker, never more of another run's name.
        && (fileName[runName.Length] == '.' || fileName.AsSpan(runName.Length).StartsWith(PartMarker, StringComparison.Ordinal));

    private static string PartName(string runName, string extension, int part) =>
        $"{runName}{PartMarker}{part.ToString("D4", CultureInfo.InvariantCulture)}{extension}";
}
