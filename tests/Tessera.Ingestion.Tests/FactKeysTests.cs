using Tessera.Abstractions;

namespace Tessera.Ingestion.Tests;

public sealed class FactKeysTests
{
    private static readonly IdentityValue Device = new("ECID", "d-1", true);

    private static byte[] Key(Func<byte[], int> write)
    {
        var buffer = new byte[FactKeys.MaxKeyBytes("prod", Device, "web", "e-1")];
        return buffer[..write(buffer)];
    }

    public static TheoryData<string> Kinds => ["record", "event", "timeline"];

    private static byte[] KeyOf(string kind) => kind switch
    {
        "record" => Key(b => FactKeys.RecordKey(b, "prod", Device, "crm", "b-1", 7, out _, out _)),
        "event" => Key(b => FactKeys.EventKey(b, "prod", Device, "web", "e-1", out _, out _)),
        _ => Key(b => FactKeys.TimelineKey(b, "prod", Device, 42, "web", "e-1")),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_identity_alone_is_what_the_whole_key_names_and_its_names_are_one_string_each(string kind)
    {
        Assert.True(FactKeys.TryParse(KeyOf(kind), out var parsed));
        Assert.True(FactKeys.TryParseIdentity(KeyOf(kind), out var sandbox, out var identity));
        Assert.Equal(("prod", Device), (sandbox, identity));
        Assert.Equal((parsed.Sandbox, parsed.Identity), (sandbox, identity));
        // Sandbox, namespace and dataset come back as the same strings from every key (no string per key read).
        Assert.True(FactKeys.TryParse(KeyOf(kind), out var again));
        Assert.Same(parsed.Sandbox, again.Sandbox);
        Assert.Same(parsed.Identity.Namespace, again.Identity.Namespace);
        Assert.Same(parsed.Dataset, again.Dataset);
        Assert.NotSame(parsed.Identity.Value, again.Identity.Value); // Values are many: not kept.
    }

    [Theory]
    [InlineData("")]
    [InlineData("x\0prod\0ECID\0d-1\0")]
    [InlineData("e\0prod\0ECID")]
    public void Other_keys_name_no_identity(string key) =>
        Assert.False(FactKeys.TryParseIdentity(System.Text.Encoding.UTF8.GetBytes(key), out _, out _));

    [Fact]
    public void Interned_text_is_one_string_per_text_up_to_its_capacity_then_decoded_each_time()
    {
        var texts = new InternedText(capacity: 2);
        var a = texts.Get("aé"u8);
        Assert.Equal("aé", a);
        Assert.Same(a, texts.Get("aé"u8));
        Assert.Same(texts.Get("b"u8), texts.Get("b"u8));
        var c = texts.Get("c"u8);
        Assert.Equal("c", c);
        Assert.NotSame(c, texts.Get("c"u8)); // Past the capacity.
        var longText = new string('x', 300);
        Assert.Equal(longText, texts.Get(System.Text.Encoding.UTF8.GetBytes(longText)));
        Assert.Equal("", texts.Get([]));
    }
}
