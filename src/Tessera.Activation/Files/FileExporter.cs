using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Tessera.Activation.Files;

/// <summary>
/// Writes one run of a file destination: the records an export run read (current members for a full
/// export, changes for an incremental one) as CSV, JSON Lines or Parquet files in a folder.
/// </summary>
/// <remarks>
/// <para>
/// Columns: the caller names them, in file order. A column takes its value from the record's match
/// key with that <see cref="MatchKey.Target"/> (the first such key, if the record has several),
/// else from the attribute of that name; neither gives a missing value (empty in CSV, null in JSON
/// Lines and Parquet). Values are written as given: normalizing and hashing are the caller's.
/// The column <see cref="OperationColumn"/>, if listed, holds the record's operation (<c>add</c> or
/// <c>remove</c>; an update is written <c>add</c>, because the row carries the member's current
/// values): incremental exports list it, full exports need not.
/// </para>
/// <para>
/// Crash safety: every part is written to <c>&lt;part name&gt;.tmp</c> in the destination folder,
/// flushed and fsynced; only when the whole run is written are the parts renamed to their final
/// names (overwriting) and the folder fsynced. A run's names depend only on the destination, the
/// audience and the run time, so running a crashed run again cleans up its staging files, writes the
/// same files and replaces whatever the crashed run had published.
/// </para>
/// </remarks>
public sealed class FileExporter
{
    /// <summary>The reserved column that carries a record's operation (<c>add</c> or <c>remove</c>).</summary>
    public const string OperationColumn = "operation";

    private const int CancellationCheckRows = 4096;

    private static readonly string[] KnownExtensions = [".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet"];

    private readonly bool _readAhead;

    /// <param name="readAhead">
    /// Enumerate the source on a thread-pool thread, up to <see cref="RecordReadAhead.Batches"/> batches
    /// of <see cref="RecordReadAhead.BatchRecords"/> records ahead of the writer, so that producing
    /// records (reading memberships, mapping, hashing) and writing them can use two cores. Off by
    /// default: it only pays when a core is free (on the shared benchmark machine it was slower, see
    /// BENCHMARKS.md), and in step the source runs on the caller's thread.
    /// </param>
    public FileExporter(bool readAhead = false)
    {
        _readAhead = readAhead;
    }

    /// <summary>Exports records read synchronously (for example a membership scan over the embedded store).</summary>
    public Task<FileExportResult> ExportAsync(
        string destination,
        string audienceId,
        DateTimeOffset runAt,
        IReadOnlyList<string> columns,
        IEnumerable<DeliveryRecord> records,
        FileExportSettings settings,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        return RunAsync(destination, audienceId, runAt, columns, settings, _readAhead
            ? (run, token) => RecordReadAhead.FeedAsync((writer, stop) => RecordReadAhead.ProduceAsync(records, writer, stop), run.AcceptAsync, token)
            : async (run, token) =>
            {
                foreach (var record in records)
                {
                    await run.AcceptAsync(record, token).ConfigureAwait(false);
                }
            }, cancellationToken);
    }

    /// <summary>Exports records read asynchronously.</summary>
    public Task<FileExportResult> ExportAsync(
        string destination,
        string audienceId,
        DateTimeOffset runAt,
        IReadOnlyList<string> columns,
        IAsyncEnumerable<DeliveryRecord> records,
        FileExportSettings settings,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        return RunAsync(destination, audienceId, runAt, columns, settings, _readAhead
            ? (run, token) => RecordReadAhead.FeedAsync((writer, stop) => RecordReadAhead.ProduceAsync(records, writer, stop), run.AcceptAsync, token)
            : async (run, token) =>
            {
                await foreach (var record in records.WithCancellation(token).ConfigureAwait(false))
                {
                    await run.AcceptAsync(record, token).ConfigureAwait(false);
                }
            }, cancellationToken);
    }

    private static async Task<FileExportResult> RunAsync(
        string destination,
        string audienceId,
        DateTimeOffset runAt,
        IReadOnlyList<string> columns,
        FileExportSettings settings,
        Func<ExportRun, CancellationToken, Task> feed,
        CancellationToken cancellationToken)
    {
        await using var run = ExportRun.Start(destination, audienceId, runAt, columns, settings);
        try
        {
            await feed(run, cancellationToken).ConfigureAwait(false);
            return await run.PublishAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await run.AbandonAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The state of one run: the current part, the completed (staged) parts, the counts and the de-duplication set.</summary>
    private sealed class ExportRun : IAsyncDisposable
    {
        private readonly IReadOnlyList<string> _columns;
        private readonly FileExportSettings _settings;
        private readonly string _folder;
        private readonly string _runName;
        private readonly string _extension;
        private readonly Dictionary<string, int> _columnIndex;
        private readonly ColumnLookup _keyColumns;
        private readonly ColumnLookup _attributeColumns;
        private readonly int _operationIndex;
        private readonly int[] _mandatory;
        private readonly int[] _dedupKey;
        private readonly HashSet<UInt128>? _seenKeys;
        private readonly XxHash128 _keyHash = new();
        private readonly string?[] _values;
        private readonly List<(string StagingPath, long Rows, long Bytes)> _staged = [];
        private readonly Dictionary<string, long> _excluded = new(StringComparer.Ordinal);
        private ExportPartWriter? _part;
        private long _recordsRead;
        private long _rowsWritten;

        private ExportRun(string destination, string audienceId, DateTimeOffset runAt, IReadOnlyList<string> columns, FileExportSettings settings)
        {
            _columns = columns;
            _settings = settings;
            _folder = Path.GetFullPath(settings.Folder);
            _runName = ExportFileNames.RunName(destination, audienceId, runAt);
            _extension = ExportFileNames.Extension(settings.Format, settings.Gzip);
            _columnIndex = new Dictionary<string, int>(columns.Count, StringComparer.Ordinal);
            for (var i = 0; i < columns.Count; i++)
            {
                _columnIndex[columns[i]] = i;
            }
            _keyColumns = new ColumnLookup(_columnIndex);
            _attributeColumns = new ColumnLookup(_columnIndex);
            _operationIndex = _columnIndex.GetValueOrDefault(OperationColumn, -1);
            _mandatory = [.. settings.MandatoryAttributes.Select(c => _columnIndex[c])];
            _dedupKey = [.. settings.DedupKey.Select(c => _columnIndex[c])];
            _seenKeys = _dedupKey.Length > 0 ? [] : null;
            _values = new string?[columns.Count];
        }

        public static ExportRun Start(string destination, string audienceId, DateTimeOffset runAt, IReadOnlyList<string> columns, FileExportSettings settings)
        {
            ArgumentException.ThrowIfNullOrEmpty(destination);
            ArgumentException.ThrowIfNullOrEmpty(audienceId);
            ArgumentNullException.ThrowIfNull(columns);
            ArgumentNullException.ThrowIfNull(settings);
            settings.EnsureValid(columns);
            var run = new ExportRun(destination, audienceId, runAt, columns, settings);
            Directory.CreateDirectory(run._folder);
            run.DeleteFilesOfRun(keep: null, stagingOnly: true);
            return run;
        }

        public async ValueTask AcceptAsync(DeliveryRecord record, CancellationToken cancellationToken)
        {
            if (++_recordsRead % CancellationCheckRows == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            if (!Fill(record, out var reason) || (reason = Exclusion()) is not null)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(_excluded, reason!, out _)++;
                return;
            }
            _part ??= ExportPartWriter.Open(Path.Combine(_folder, ExportFileNames.StagingName(_runName, _extension, _staged.Count + 1)), _columns, _settings);
            await _part.WriteRowAsync(_values, cancellationToken).ConfigureAwait(false);
            _rowsWritten++;
            if (_part.Rows == _settings.MaxRowsPerFile)
            {
                await CompletePartAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public async Task<FileExportResult> PublishAsync(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_part is null && _staged.Count == 0)
            {
                // No row at all: still one (empty) file, so that the receiver sees that the run happened.
                _part = ExportPartWriter.Open(Path.Combine(_folder, ExportFileNames.StagingName(_runName, _extension, 1)), _columns, _settings);
            }
            if (_part is not null)
            {
                await CompletePartAsync(cancellationToken).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            // From here on the run is written: publish without further cancellation checks.
            var files = new List<ExportedFile>(_staged.Count);
            for (var i = 0; i < _staged.Count; i++)
            {
                var (stagingPath, rows, bytes) = _staged[i];
                var name = ExportFileNames.FileName(_runName, _extension, i + 1, _staged.Count);
                var path = Path.Combine(_folder, name);
                File.Move(stagingPath, path, overwrite: true);
                files.Add(new ExportedFile(name, path, rows, bytes));
            }
            _staged.Clear();
            // A crashed earlier attempt of this run may have published parts this attempt does not have (the data changed, or the settings).
            DeleteFilesOfRun(keep: [.. files.Select(f => f.Name)], stagingOnly: false);
            DurableFolder.Sync(_folder);
            return new FileExportResult(_runName, files, _recordsRead, _rowsWritten, new Dictionary<string, long>(_excluded, StringComparer.Ordinal));
        }

        /// <summary>After a failure or a cancellation: closes the open part and deletes the staging files (a crash leaves them to the next attempt).</summary>
        public async Task AbandonAsync()
        {
            if (_part is { } part)
            {
                _part = null;
                await part.DisposeAsync().ConfigureAwait(false);
                TryDelete(part.Path);
            }
            foreach (var (stagingPath, _, _) in _staged)
            {
                TryDelete(stagingPath);
            }
            _staged.Clear();
        }

        public async ValueTask DisposeAsync()
        {
            if (_part is { } part)
            {
                _part = null;
                await part.DisposeAsync().ConfigureAwait(false);
            }
        }

        private async Task CompletePartAsync(CancellationToken cancellationToken)
        {
            var part = _part!;
            var bytes = await part.CompleteAsync(cancellationToken).ConfigureAwait(false);
            _staged.Add((part.Path, part.Rows, bytes));
            _part = null;
        }

        /// <summary>Puts the record's values in column order into <see cref="_values"/>; false (with the reason) when it cannot be a row.</summary>
        private bool Fill(DeliveryRecord record, out string? reason)
        {
            Array.Clear(_values);
            var keys = record.Keys;
            for (var i = 0; i < keys.Count; i++)
            {
                var key = keys[i];
                var column = _keyColumns.Column(i, key.Target);
                if (column >= 0)
                {
                    _values[column] ??= key.Value;
                }
            }
            var attributes = record.Attributes;
            for (var i = 0; i < attributes.Count; i++)
            {
                var attribute = attributes[i];
                var column = _attributeColumns.Column(i, attribute.Key);
                if (column >= 0)
                {
                    _values[column] ??= attribute.Value;
                }
            }
            if (_operationIndex >= 0)
            {
                _values[_operationIndex] = record.Operation == DeliveryOperation.Remove ? "remove" : "add";
            }
            else if (record.Operation == DeliveryOperation.Remove)
            {
                reason = ExportExclusionReasons.RemovalWithoutOperationColumn;
                return false;
            }
            reason = null;
            return true;
        }

        /// <summary>Why the filled row is left out, or null to write it. A row left out for a mandatory attribute does not enter the de-duplication set.</summary>
        private string? Exclusion()
        {
            foreach (var column in _mandatory)
            {
                if (string.IsNullOrWhiteSpace(_values[column]))
                {
                    return ExportExclusionReasons.MandatoryAttribute;
                }
            }
            if (_seenKeys is not null && !_seenKeys.Add(DedupKeyHash()))
            {
                return ExportExclusionReasons.Duplicate;
            }
            return null;
        }

        /// <summary>
        /// A 128-bit hash of the row's key values, each length-prefixed (so ("ab","c") and ("a","bc")
        /// differ, and a missing value differs from an empty one): 16 bytes per distinct key instead of
        /// the strings, and a collision chance near 2^-128 per pair.
        /// </summary>
        private UInt128 DedupKeyHash()
        {
            Span<byte> length = stackalloc byte[4];
            foreach (var column in _dedupKey)
            {
                var value = _values[column];
                BitConverter.TryWriteBytes(length, value?.Length ?? -1);
                _keyHash.Append(length);
                _keyHash.Append(MemoryMarshal.AsBytes(value.AsSpan()));
            }
            var hash = _keyHash.GetCurrentHashAsUInt128();
            _keyHash.Reset();
            return hash;
        }

        /// <summary>Deletes this run's files in the folder: staging files only, or (after publishing) also final files not in <paramref name="keep"/>.</summary>
        private void DeleteFilesOfRun(HashSet<string>? keep, bool stagingOnly)
        {
            foreach (var path in Directory.EnumerateFiles(_folder, _runName + "*"))
            {
                var name = Path.GetFileName(path);
                if (!ExportFileNames.BelongsToRun(name, _runName) || (keep is not null && keep.Contains(name)))
                {
                    continue;
                }
                var staging = name.EndsWith(ExportFileNames.StagingSuffix, StringComparison.Ordinal);
                if (staging || (!stagingOnly && KnownExtensions.Any(e => name.EndsWith(e, StringComparison.Ordinal))))
                {
                    File.Delete(path);
                }
            }
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Left for the next attempt of the run, which deletes its staging files first.
            }
            catch (UnauthorizedAccessException)
            {
                // Same.
            }
        }
    }

    /// <summary>
    /// The column of a key target or attribute name, remembered per position in the record: the
    /// records of one export usually list the same names, as the same string instances, in the same
    /// order, so a reference comparison replaces a dictionary lookup per value.
    /// </summary>
    private sealed class ColumnLookup(Dictionary<string, int> columns)
    {
        private string?[] _names = new string?[8];
        private int[] _columns = new int[8];

        /// <summary>The column of <paramref name="name"/>, found at <paramref name="position"/>; -1 when the export has no such column.</summary>
        public int Column(int position, string name)
        {
            if (position < _names.Length && ReferenceEquals(_names[position], name))
            {
                return _columns[position];
            }
            var column = columns.GetValueOrDefault(name, -1);
            if (position >= _names.Length)
            {
                Array.Resize(ref _names, Math.Max(position + 1, _names.Length * 2));
                Array.Resize(ref _columns, _names.Length);
            }
            _names[position] = name;
            _columns[position] = column;
            return column;
        }
    }
}
