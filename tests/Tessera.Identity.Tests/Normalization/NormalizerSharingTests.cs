using System.Security.Cryptography;
using System.Text;

namespace Tessera.Identity.Tests.Normalization;

/// <summary>One normalizer per namespace serves every validation worker: no shared mutable state, and no allocation on the happy path.</summary>
public sealed class NormalizerSharingTests
{
    private static readonly string[] Inputs =
    [
        "Ann@Example.com", "ann@example.com", "bad@", "unknown", "(650) 253-0000", "+442079460958", "+1 123 456 7890",
        "6D92078A-8246-4BA4-AE5B-76104861E7DC", "00000000-0000-0000-0000-000000000000", "CRM-0042", "0", " n/a ",
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("ann@example.com"))),
    ];

    [Fact]
    public void Concurrent_workers_get_what_one_thread_gets()
    {
        var expected = Namespaces.All.SelectMany(n => Inputs.Select(i => n.Normalize(i))).ToArray();
        var work = Enumerable.Range(0, 20_000).ToArray();
        var mismatches = 0;

        Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(4, Environment.ProcessorCount) }, i =>
        {
            var normalizer = Namespaces.All[i % Namespaces.All.Count];
            var input = i / Namespaces.All.Count % Inputs.Length;
            var outcome = normalizer.Normalize(Inputs[input]);
            if (outcome != expected[(i % Namespaces.All.Count * Inputs.Length) + input])
            {
                Interlocked.Increment(ref mismatches);
            }
        });

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void Normalizing_an_already_normalized_text_email_hash_or_uuid_allocates_nothing()
    {
        var values = new[]
        {
            (Namespaces.Text, "CRM-0042"),
            (Namespaces.Email, "ann.smith@example.co.uk"),
            (Namespaces.Sha256, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("ann@example.com")))),
            (Namespaces.Uuid, "6d92078a-8246-4ba4-ae5b-76104861e7dc"),
        };
        foreach (var (normalizer, value) in values)
        {
            normalizer.Normalize(value); // JIT and static initialization first
        }

        // A per-call allocation shows in every round. One-off work on this thread (tiered re-compilation
        // installing code, a lazily loaded type) can land in any single round, so one clean round of five is the bar.
        var allocatedPerRound = new long[5];
        for (var round = 0; round < allocatedPerRound.Length; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1_000; i++)
            {
                foreach (var (normalizer, value) in values)
                {
                    if (!ReferenceEquals(normalizer.Normalize(value).Value, value))
                    {
                        Assert.Fail($"{normalizer.Namespace}: '{value}' did not come back as itself");
                    }
                }
            }

            allocatedPerRound[round] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.True(allocatedPerRound.Min() == 0, $"bytes allocated per round of 4,000 calls: {string.Join(", ", allocatedPerRound)}");
    }
}
