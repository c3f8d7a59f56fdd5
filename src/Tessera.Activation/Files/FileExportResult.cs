namespace Tessera.Activation.Files;

/// <summary>Why a record was not written as a row.</summary>
public static class ExportExclusionReasons
{
    /// <summary>A column of <see cref="FileExportSettings.MandatoryAttributes"/> was missing, empty or blank.</summary>
    public const string MandatoryAttribute = "mandatory attribute";

    /// <summary>An earlier row had the same values in the <see cref="FileExportSettings.DedupKey"/> columns.</summary>
    public const string Duplicate = "duplicate";

    /// <summary>A removal in an export without the <see cref="FileExporter.OperationColumn"/>: there every row means "member", so a removal cannot be written.</summary>
    public const string RemovalWithoutOperationColumn = "removal without operation column";
}

/// <summary>One published file of an export run.</summary>
/// <param name="Name">The file name within the folder.</param>
/// <param name="Path">The full path.</param>
/// <param name="Rows">Data rows (the CSV header is not counted).</param>
/// <param name="Bytes">Size on disk (compressed, for gzip).</param>
public sealed record ExportedFile(string Name, string Path, long Rows, long Bytes);

/// <summary>What one export run wrote, and what it left out and why.</summary>
/// <param name="RunName">The name every file of the run starts with.</param>
/// <param name="Files">The published files in part order: one when the run was not split.</param>
/// <param name="RecordsRead">Records taken from the source.</param>
/// <param name="RowsWritten">Rows written over all files (<see cref="RecordsRead"/> minus the excluded).</param>
/// <param name="Excluded">Records not written, by reason (<see cref="ExportExclusionReasons"/>); reasons with none are absent.</param>
public sealed record FileExportResult(
    string RunName,
    IReadOnlyList<ExportedFile> Files,
    long RecordsRead,
    long RowsWritten,
    IReadOnlyDictionary<string, long> Excluded)
{
    /// <summary>Bytes written over all files.</summary>
    public long Bytes => Files.Sum(f => f.Bytes);

    /// <summary>Records left out as duplicates of an earlier row's <see cref="FileExportSettings.DedupKey"/>.</summary>
    public long Duplicates => Excluded.GetValueOrDefault(ExportExclusionReasons.Duplicate);
}
