using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Spectre.Console;
using Tessera.Activation;
using Tessera.Activation.Connectors;
using Tessera.Activation.Connectors.Platforms;
using Tessera.Activation.Hashing;

namespace Tessera.Bench;

/// <summary>
/// The hashing benchmark (<c>--only hashing</c>): match keys normalized per platform, SHA-256'd
/// and written as hex, on one thread, beside the bare floor of <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/>
/// over the same normalized values already encoded as UTF-8, measured in the same run.
/// </summary>
internal static class HashingBench
{
    /// <summary>BENCHMARKS.md's target for normalize + hash + hex, per core.</summary>
    private const double TargetPerSecond = 1_500_000;

    private const int BatchSize = 1_000;


    public static Task<IReadOnlyList<Figure>> RunAsync(BenchOptions options, CancellationToken cancellationToken) =>
        Task.Run(() => Run(options), cancellationToken);

    private static IReadOnlyList<Figure> Run(BenchOptions options)
    {
        var count = options.Quick ? 100_000 : 1_000_000;
        var warmup = TimeSpan.FromSeconds(options.Quick ? 0.5 : 1.5);
        AnsiConsole.MarkupLine($"[bold]Tessera hashing benchmark[/]: {count:N0} identities per pass, one thread, batches of {BatchSize:N0}; "
            + $"eight-lane SHA-256 {(Sha256Batch.IsVectorized ? "on" : "off (no 256-bit vectors)")}");
        var random = new Random(IdentityBench.Seed);
        var emails = Enumerable.Range(0, count).Select(i => BenchInputs.Email(random, i)).ToArray();
        var phones = Enumerable.Range(0, count).Select(i => $"+1{random.Next(201, 990)}{random.Next(200, 999)}{random.Next(0, 10_000):0000}").ToArray();
        var normalizer = PlatformNormalizer.Default;
        var googleEmails = emails.Select(e => Encoding.UTF8.GetBytes(normalizer.Normalize(HashPlatform.Google, KeyKind.Email, e).Value!)).ToArray();
        var metaEmails = emails.Select(e => Encoding.UTF8.GetBytes(normalizer.Normalize(HashPlatform.Meta, KeyKind.Email, e).Value!)).ToArray();
        var averageBytes = googleEmails.Average(b => b.Length);
        AnsiConsole.MarkupLine($"[grey]emails {averageBytes:0.0} bytes on average after normalization; {emails.Count(e => e.Contains("gmail", StringComparison.OrdinalIgnoreCase)):N0} at gmail/googlemail[/]");

        var rows = new List<string[]>();
        var floor = Measure(warmup, count, () => BareFloor(googleEmails));
        rows.Add(["floor: SHA256.HashData per value over pre-encoded normalized emails", PerSecond(floor), "1.00", ""]);
        var lanes = Measure(warmup, count, () => LanesOnly(googleEmails));
        rows.Add(["stage: Sha256Batch.HashMany over the same bytes (eight lanes)", PerSecond(lanes), Ratio(lanes, floor), ""]);
        var google = Measure(warmup, count, () => NormalizeHashHex(emails, HashPlatform.Google, KeyKind.Email));
        rows.Add(["Tessera: email normalize (Google rules) + SHA-256 + hex", PerSecond(google), Ratio(google, floor), Verdict(google)]);
        var meta = Measure(warmup, count, () => NormalizeHashHex(emails, HashPlatform.Meta, KeyKind.Email));
        rows.Add(["Tessera: email normalize (Meta rules) + SHA-256 + hex", PerSecond(meta), Ratio(meta, floor), Verdict(meta)]);
        var uid2 = Measure(warmup, count, () => NormalizeHashBase64(emails));
        rows.Add(["Tessera: email normalize (UID2 rules) + SHA-256 + Base64", PerSecond(uid2), Ratio(uid2, floor), Verdict(uid2)]);
        var phone = Measure(warmup, count, () => NormalizeHashHex(phones, HashPlatform.Meta, KeyKind.Phone));
        rows.Add(["Tessera: E.164 phone normalize (Meta digits) + SHA-256 + hex", PerSecond(phone), Ratio(phone, floor), Verdict(phone)]);
        var national = phones.Take(count / 10).Select(p => $"({p[2..5]}) {p[5..8]}-{p[8..]}").ToArray();
        var parsed = Measure(warmup, national.Length, () => NormalizeHashHex(national, HashPlatform.Google, KeyKind.Phone));
        rows.Add(["diagnostic: national-format phone through libphonenumber + SHA-256 + hex", PerSecond(parsed), Ratio(parsed, floor), ""]);
        var records = Enumerable.Range(0, 10_000).Select(i => new DeliveryRecord(i, "aud", $"p{i}", DeliveryOperation.Add, DateTimeOffset.UnixEpoch,
            [new MatchKey("EMAIL", emails[i]), new MatchKey("PHONE", phones[i])], [])).ToArray();
        var context = new ConnectorContext("bench", "batch-1", new Dictionary<string, string>(), new Dictionary<string, string>());
        var connector = new MetaCustomAudienceConnector();
        var requests = Measure(warmup, records.Length, () => connector.Build(context, records).Sum(r => (long)r.Records));
        rows.Add(["Tessera: Meta connector, 10,000 records x (EMAIL, PHONE) to request JSON", PerSecond(requests, "records"), "", ""]);

        var size = options.QuickNote($"{count:N0} identities per pass") + $"; floor over the same emails normalized and encoded beforehand; one thread, batches of {BatchSize:N0}; eight-lane SHA-256 {(Sha256Batch.IsVectorized ? "on" : "off")}";
        const string Floor = "bare SHA256.HashData per value";
        const string Target = "≥ 1,500,000 identities/s";
        Figure Hashed(string name, double rate, string? notes = null) =>
            new("hashing", name, rate, "identities/s", HigherIsBetter: true, Floor, floor, Target, rate >= TargetPerSecond, notes is null ? size : $"{size}; {notes}");
        IReadOnlyList<Figure> figures =
        [
            new("hashing", "stage: Sha256Batch.HashMany over the same bytes (eight lanes)", lanes, "identities/s", HigherIsBetter: true, Floor, floor, Notes: size),
            Hashed("email normalize (Google rules) + SHA-256 + hex", google),
            Hashed("email normalize (Meta rules) + SHA-256 + hex", meta),
            Hashed("email normalize (UID2 rules) + SHA-256 + Base64", uid2),
            Hashed("E.164 phone normalize (Meta digits) + SHA-256 + hex", phone),
            new("hashing", "diagnostic: national-format phone through libphonenumber + SHA-256 + hex", parsed, "identities/s", HigherIsBetter: true, Floor, floor,
                Notes: $"{size}; {national.Length:N0} phones"),
            new("hashing", "Meta connector, 10,000 records × (EMAIL, PHONE) to request JSON", requests, "records/s", HigherIsBetter: true, Notes: size),
        ];
        var table = new Table().AddColumns("measure (one thread)", "per second", "ratio to floor", "target ≥ 1,500,000/s");
        foreach (var row in rows)
        {
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);
        return figures;
    }


    private static long BareFloor(byte[][] values)
    {
        Span<byte> digest = stackalloc byte[32];
        long sum = 0;
        foreach (var value in values)
        {
            SHA256.HashData(value, digest);
            sum += digest[0];
        }
        return sum;
    }

    private static long LanesOnly(byte[][] values)
    {
        var packed = new byte[BatchSize * 64];
        var ends = new int[BatchSize];
        var digests = new byte[BatchSize * 32];
        long sum = 0;
        for (var start = 0; start < values.Length; start += BatchSize)
        {
            var n = Math.Min(BatchSize, values.Length - start);
            var length = 0;
            for (var i = 0; i < n; i++)
            {
                values[start + i].CopyTo(packed, length);
                length += values[start + i].Length;
                ends[i] = length;
            }
            Sha256Batch.HashMany(packed.AsSpan(0, length), ends.AsSpan(0, n), digests);
            sum += digests[0];
        }
        return sum;
    }

    /// <summary>Normalize, hash in batches, write each digest as hex UTF-8 into a reused buffer (no string per value).</summary>
    private static long NormalizeHashHex(string[] values, HashPlatform platform, KeyKind kind)
    {
        var normalizer = PlatformNormalizer.Default;
        using var batch = new KeyHashBatch(BatchSize);
        Span<byte> hex = stackalloc byte[DigestText.HexLength];
        long sum = 0;
        for (var start = 0; start < values.Length; start += BatchSize)
        {
            batch.Clear();
            var n = Math.Min(BatchSize, values.Length - start);
            for (var i = 0; i < n; i++)
            {
                var outcome = normalizer.Normalize(platform, kind, values[start + i]);
                if (outcome.IsUsable)
                {
                    batch.Add(outcome);
                }
            }
            batch.Compute();
            for (var i = 0; i < batch.Count; i++)
            {
                DigestText.WriteHexUtf8(batch.Digest(i), hex);
                sum += hex[0];
            }
        }
        return sum;
    }

    private static long NormalizeHashBase64(string[] values)
    {
        var normalizer = PlatformNormalizer.Default;
        using var batch = new KeyHashBatch(BatchSize);
        Span<byte> text = stackalloc byte[DigestText.Base64Length];
        long sum = 0;
        for (var start = 0; start < values.Length; start += BatchSize)
        {
            batch.Clear();
            var n = Math.Min(BatchSize, values.Length - start);
            for (var i = 0; i < n; i++)
            {
                var outcome = normalizer.Normalize(HashPlatform.TradeDesk, KeyKind.Email, values[start + i]);
                if (outcome.IsUsable)
                {
                    batch.Add(outcome);
                }
            }
            batch.Compute();
            for (var i = 0; i < batch.Count; i++)
            {
                DigestText.WriteBase64Utf8(batch.Digest(i), text);
                sum += text[0];
            }
        }
        return sum;
    }

    /// <summary>Items per second: warm up for <paramref name="warmup"/> (tiered JIT), then the best of at least three passes and a second in all.</summary>
    private static double Measure(TimeSpan warmup, int items, Func<long> pass)
    {
        var warming = Stopwatch.StartNew();
        while (warming.Elapsed < warmup)
        {
            _ = pass();
        }
        var best = double.MaxValue;
        var spent = Stopwatch.StartNew();
        for (var run = 0; run < 3 || (spent.Elapsed.TotalSeconds < 1 && run < 50); run++)
        {
            var watch = Stopwatch.StartNew();
            _ = pass();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return items / best;
    }

    private static string PerSecond(double rate, string unit = "identities") => $"{rate.ToString("N0", CultureInfo.InvariantCulture)} {unit}/s";

    private static string Ratio(double rate, double floor) => (rate / floor).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Verdict(double rate) => rate >= TargetPerSecond ? "met" : "NOT met";
}
