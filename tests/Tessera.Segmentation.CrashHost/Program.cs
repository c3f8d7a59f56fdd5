using System.Globalization;
using Tessera.Abstractions;
using Tessera.Segmentation.Memberships;
using Tessera.Storage.RocksDb;

// Test-only driver for the membership crash test (tests/Tessera.Segmentation.Tests): applies random
// verdict batches to the store in args[0] from several writers until it is killed, printing
// "acked <sequence>" after each commit returns (the sequence the feed reached, at least).
// args[1] seeds the verdicts. Not part of the product.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Tessera.Segmentation.CrashHost STORE_DIRECTORY SEED");
    return 2;
}
using var store = RocksDbStore.Open(args[0], 2);
var memberships = new MembershipStore(store, new SegmentationSettings());
var seed = int.Parse(args[1], CultureInfo.InvariantCulture);
var output = Console.Out;
var gate = new object();
Console.WriteLine("ready " + memberships.LastSequence("prod").ToString(CultureInfo.InvariantCulture));
await Parallel.ForAsync(0, 4, async (writer, _) =>
{
    var random = new Random(seed * 31 + writer);
    var at = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    while (true)
    {
        var batch = new Evaluation[random.Next(1, 40)];
        for (var i = 0; i < batch.Length; i++)
        {
            var profile = "CRMID:" + random.Next(200).ToString(CultureInfo.InvariantCulture);
            batch[i] = new Evaluation(profile, [profile, "Email:" + profile[6..] + "@x.com"], "a" + random.Next(5).ToString(CultureInfo.InvariantCulture), random.Next(2) == 0);
        }
        at = at.AddSeconds(1);
        await memberships.ApplyAsync("prod", batch, at);
        var acked = memberships.LastSequence("prod");
        lock (gate)
        {
            output.WriteLine("acked " + acked.ToString(CultureInfo.InvariantCulture));
            output.Flush();
        }
    }
});
return 0;
