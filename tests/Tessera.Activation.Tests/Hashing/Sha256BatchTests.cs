using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Activation.Hashing;

namespace Tessera.Activation.Tests.Hashing;

public sealed class Sha256BatchTests
{
    [Property(MaxTest = 300)]
    public bool Batch_agrees_with_the_platform_sha256(string[] values)
    {
        values ??= [];
        var messages = values.Select(v => Encoding.UTF8.GetBytes(v ?? "")).ToArray();
        var packed = messages.SelectMany(m => m).ToArray();
        var ends = new int[messages.Length];
        var end = 0;
        for (var i = 0; i < messages.Length; i++)
        {
            end += messages[i].Length;
            ends[i] = end;
        }
        var digests = new byte[messages.Length * 32];
        Sha256Batch.HashMany(packed, ends, digests);
        return messages.Select((m, i) => SHA256.HashData(m).AsSpan().SequenceEqual(digests.AsSpan(i * 32, 32))).All(x => x);
    }

    [Fact]
    public void Every_length_around_the_one_block_limit_agrees()
    {
        // 0..120 bytes: single-block lanes (<= 55), the boundary, and the fallback for longer messages, in one batch.
        var messages = Enumerable.Range(0, 121).Select(n => Enumerable.Range(0, n).Select(i => (byte)('a' + (i % 26))).ToArray()).ToArray();
        var packed = messages.SelectMany(m => m).ToArray();
        var ends = new int[messages.Length];
        var end = 0;
        for (var i = 0; i < messages.Length; i++)
        {
            end += messages[i].Length;
            ends[i] = end;
        }
        var digests = new byte[messages.Length * 32];
        Sha256Batch.HashMany(packed, ends, digests);
        for (var i = 0; i < messages.Length; i++)
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(messages[i])), Convert.ToHexStringLower(digests.AsSpan(i * 32, 32)));
        }
    }

    [Fact]
    public void Known_vectors()
    {
        // FIPS 180-2 "abc" and the empty message.
        var digests = new byte[64];
        Sha256Batch.HashMany("abc"u8, [3, 3], digests);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Convert.ToHexStringLower(digests.AsSpan(0, 32)));
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(digests.AsSpan(32, 32)));
    }

    [Fact]
    public void Key_batch_writes_hex_and_base64_and_passes_digests_through()
    {
        using var batch = new KeyHashBatch(2);
        var a = batch.Add(KeyOutcome.ToHash("user@example.com"));
        var b = batch.Add(KeyOutcome.Hashed("b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514"));
        var c = batch.Add(KeyOutcome.Plain("US"));
        for (var i = 0; i < 40; i++)
        {
            batch.Add(KeyOutcome.ToHash($"person{i}@example.com"));
        }
        batch.Compute();
        Assert.Equal("b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514", batch.Hex(a));
        Assert.Equal("tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ=", batch.Base64(a));
        Assert.Equal(batch.Hex(a), batch.Hex(b));
        Assert.Equal("US", batch.Hex(c));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("person39@example.com"u8)), batch.Hex(42));
        Assert.Throws<ArgumentException>(() => batch.Add(KeyOutcome.Invalid("no")));
    }
}
