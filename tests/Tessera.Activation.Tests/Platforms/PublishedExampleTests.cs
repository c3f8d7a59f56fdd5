using System.Runtime.CompilerServices;
using System.Text.Json;
using Tessera.Activation.Hashing;

namespace Tessera.Activation.Tests.Platforms;

/// <summary>Every worked example the platforms publish (published-examples.json, with its source) passes exactly.</summary>
public sealed class PublishedExampleTests
{
    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var example in Load())
        {
            data.Add(example.GetRawText());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Published_example_passes_exactly(string json)
    {
        using var document = JsonDocument.Parse(json);
        var example = document.RootElement;
        var platform = KeyHashing.ParsePlatform(example.GetProperty("platform").GetString()!)!.Value;
        var kind = Enum.Parse<KeyKind>(example.GetProperty("kind").GetString()!, ignoreCase: true);
        var region = example.TryGetProperty("region", out var r) ? r.GetString() : null;
        var normalizer = new PlatformNormalizer(region);
        var input = example.GetProperty("input").GetString()!;

        var hashed = KeyHashing.Hash(normalizer, platform, kind, input, out var problem);

        if (example.TryGetProperty("expectInvalid", out var invalid) && invalid.GetBoolean())
        {
            Assert.Null(hashed);
            Assert.False(string.IsNullOrEmpty(problem));
            return;
        }
        Assert.True(hashed is not null, $"{input}: {problem}");
        Assert.Equal(example.GetProperty("normalized").GetString(), hashed.Normalized);
        if (example.TryGetProperty("sha256Hex", out var hex))
        {
            Assert.Equal(hex.GetString(), hashed.Sha256Hex);
        }
        if (example.TryGetProperty("sha256Base64", out var base64))
        {
            Assert.Equal(base64.GetString(), hashed.Sha256Base64);
        }
    }

    [Fact]
    public void Every_example_names_its_source()
    {
        var examples = Load().ToList();
        Assert.True(examples.Count >= 25);
        Assert.All(examples, e => Assert.StartsWith("https://", e.GetProperty("source").GetString()));
    }

    private static IEnumerable<JsonElement> Load()
    {
        var path = Path.Combine(Path.GetDirectoryName(SourceFile())!, "published-examples.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.GetProperty("examples").EnumerateArray().Select(e => e.Clone())];
    }

    private static string SourceFile([CallerFilePath] string path = "") => path;
}
