using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace Tessera.Activation.Hashing;

/// <summary>
/// SHA-256 of many short messages at once. Match keys (emails, phone numbers, names) are almost
/// always shorter than 56 bytes, so each fits in one 64-byte SHA-256 block; eight such messages
/// are hashed side by side, one per 32-bit lane of a 256-bit vector. A one-shot
/// <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/> call spends most of its time on
/// per-call overhead for inputs this small (BENCHMARKS.md, "Hashing"); the lanes amortize it.
/// Longer messages, and machines without 256-bit vectors, go through the platform's SHA-256.
/// </summary>
public static class Sha256Batch
{
    /// <summary>Bytes of a digest.</summary>
    public const int DigestBytes = 32;

    /// <summary>The longest message that fits in one block (64 bytes less the 0x80 marker and the 8-byte length).</summary>
    public const int MaxSingleBlock = 55;

    private const int Lanes = 8;

    private static readonly uint[] K =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    private static readonly uint[] Initial =
    [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];

    /// <summary>Whether the eight-lane path runs on this machine (else every message takes the platform's one-shot SHA-256).</summary>
    public static bool IsVectorized => Vector256.IsHardwareAccelerated;

    /// <summary>The digest of one message, written to <paramref name="digest"/> (32 bytes).</summary>
    public static void Hash(ReadOnlySpan<byte> message, Span<byte> digest) => SHA256.HashData(message, digest);

    /// <summary>
    /// Hashes the messages packed one after the other in <paramref name="packed"/>: message
    /// <c>i</c> is <c>packed[ends[i-1]..ends[i]]</c> (the first starts at 0). Digest <c>i</c> is
    /// written to <c>digests[(32 * i)..(32 * i + 32)]</c>.
    /// </summary>
    public static void HashMany(ReadOnlySpan<byte> packed, ReadOnlySpan<int> ends, Span<byte> digests)
    {
        if (digests.Length < ends.Length * DigestBytes)
        {
            throw new ArgumentException($"digests needs {ends.Length * DigestBytes} bytes, has {digests.Length}", nameof(digests));
        }
        Span<int> group = stackalloc int[Lanes];
        var grouped = 0;
        var start = 0;
        for (var i = 0; i < ends.Length; i++)
        {
            var length = ends[i] - start;
            if (!IsVectorized || length > MaxSingleBlock)
            {
                SHA256.HashData(packed.Slice(start, length), digests.Slice(i * DigestBytes, DigestBytes));
            }
            else
            {
                group[grouped++] = i;
                if (grouped == Lanes)
                {
                    HashGroup(packed, ends, group, grouped, digests);
                    grouped = 0;
                }
            }
            start = ends[i];
        }
        if (grouped > 0)
        {
            HashGroup(packed, ends, group, grouped, digests);
        }
    }

    /// <summary>Hashes up to eight single-block messages (their indexes in <paramref name="group"/>) in the lanes of one vector.</summary>
    private static void HashGroup(ReadOnlySpan<byte> packed, ReadOnlySpan<int> ends, ReadOnlySpan<int> group, int count, Span<byte> digests)
    {
        // The padded block of each lane; unused lanes hash an empty message and are not written out.
        Span<byte> blocks = stackalloc byte[Lanes * 64];
        blocks.Clear();
        for (var lane = 0; lane < count; lane++)
        {
            var index = group[lane];
            var start = index == 0 ? 0 : ends[index - 1];
            var length = ends[index] - start;
            var block = blocks.Slice(lane * 64, 64);
            packed.Slice(start, length).CopyTo(block);
            block[length] = 0x80;
            BinaryPrimitives.WriteUInt64BigEndian(block[56..], (ulong)length * 8);
        }
        for (var lane = count; lane < Lanes; lane++)
        {
            blocks[lane * 64] = 0x80;
        }

        Span<Vector256<uint>> w = stackalloc Vector256<uint>[64];
        for (var t = 0; t < 16; t++)
        {
            w[t] = Vector256.Create(
                BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice((0 * 64) + (t * 4), 4)),
                BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice((1 * 64) + (t * 4), 4)),
                BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice((2 * 64) + (t * 4), 4)),
                BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice((3 * 64) + (t * 4), 4)),
                BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice((4 * 64) + (t * 4), 4)),
                BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice((5 * 64) + (t * 4), 4)),
                BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice((6 * 64) + (t * 4), 4)),
                BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice((7 * 64) + (t * 4), 4)));
        }
        for (var t = 16; t < 64; t++)
        {
            var w15 = w[t - 15];
            var w2 = w[t - 2];
            var s0 = Rotate(w15, 7) ^ Rotate(w15, 18) ^ Vector256.ShiftRightLogical(w15, 3);
            var s1 = Rotate(w2, 17) ^ Rotate(w2, 19) ^ Vector256.ShiftRightLogical(w2, 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }

        var a = Vector256.Create(Initial[0]);
        var b = Vector256.Create(Initial[1]);
        var c = Vector256.Create(Initial[2]);
        var d = Vector256.Create(Initial[3]);
        var e = Vector256.Create(Initial[4]);
        var f = Vector256.Create(Initial[5]);
        var g = Vector256.Create(Initial[6]);
        var h = Vector256.Create(Initial[7]);
        var k = K;
        for (var t = 0; t < 64; t++)
        {
            var bigSigma1 = Rotate(e, 6) ^ Rotate(e, 11) ^ Rotate(e, 25);
            var choose = (e & f) ^ Vector256.AndNot(g, e);
            var temp1 = h + bigSigma1 + choose + Vector256.Create(k[t]) + w[t];
            var bigSigma0 = Rotate(a, 2) ^ Rotate(a, 13) ^ Rotate(a, 22);
            var majority = (a & b) ^ (a & c) ^ (b & c);
            h = g;
            g = f;
            f = e;
            e = d + temp1;
            d = c;
            c = b;
            b = a;
            a = temp1 + bigSigma0 + majority;
        }

        Span<uint> state = stackalloc uint[Lanes * 8];
        (a + Vector256.Create(Initial[0])).CopyTo(state[0..]);
        (b + Vector256.Create(Initial[1])).CopyTo(state[8..]);
        (c + Vector256.Create(Initial[2])).CopyTo(state[16..]);
        (d + Vector256.Create(Initial[3])).CopyTo(state[24..]);
        (e + Vector256.Create(Initial[4])).CopyTo(state[32..]);
        (f + Vector256.Create(Initial[5])).CopyTo(state[40..]);
        (g + Vector256.Create(Initial[6])).CopyTo(state[48..]);
        (h + Vector256.Create(Initial[7])).CopyTo(state[56..]);
        for (var lane = 0; lane < count; lane++)
        {
            var digest = digests.Slice(group[lane] * DigestBytes, DigestBytes);
            for (var word = 0; word < 8; word++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(digest[(word * 4)..], state[(word * 8) + lane]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotate(Vector256<uint> value, int bits) =>
        Vector256.ShiftRightLogical(value, bits) | Vector256.ShiftLeft(value, 32 - bits);
}
