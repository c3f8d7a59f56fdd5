using Tessera.Abstractions;

namespace Tessera.Server.Tests;

/// <summary>
/// A workspace's <c>tessera.json</c> refuses a key it does not know: a misspelt setting would otherwise be ignored
/// without a word and its default used (a retry count, a limit, the networks destinations may call).
/// </summary>
public sealed class WorkspaceConfigTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tessera-config-").FullName;

    [Fact]
    public void A_misspelt_setting_is_CONFIG_INVALID_naming_it_and_where_it_is()
    {
        var error = Assert.Throws<CatalogException>(() => Load("""{ "activation": { "maxAttempts": 3, "maxAttemps": 9 } }"""));
        Assert.Equal("CONFIG_INVALID", error.Code);
        Assert.Contains("tessera.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("'maxAttemps'", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.activation.maxAttemps", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_setting_under_the_wrong_section_is_CONFIG_INVALID()
    {
        var error = Assert.Throws<CatalogException>(() => Load("""{ "maxRecordBytes": 2048 }"""));
        Assert.Equal("CONFIG_INVALID", error.Code);
        Assert.Contains("'maxRecordBytes'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Known keys in every section, comments and trailing commas still load, and their values are taken.</summary>
    [Fact]
    public void Known_settings_load_with_comments_and_trailing_commas()
    {
        var config = Load("""
            {
              // documented in docs/limits.md
              "shards": 4,
              "limits": { "maxRecordBytes": 2048, },
              "identity": { "defaultPhoneRegion": "GB" },
              "profiles": { "cachedProfiles": 10 },
              "segmentation": { "maxAudiences": 7 },
              "activation": { "maxAttempts": 3, "defaultConsentBySandbox": { "prod": "yes" } },
            }
            """);
        Assert.Equal(4, config.Shards);
        Assert.Equal(2048, config.Limits.MaxRecordBytes);
        Assert.Equal("GB", config.Identity.DefaultPhoneRegion);
        Assert.Equal(10, config.Profiles.CachedProfiles);
        Assert.Equal(7, config.Segmentation.MaxAudiences);
        Assert.Equal(3, config.Activation.MaxAttempts);
        Assert.Equal("yes", config.Activation.DefaultConsentBySandbox["prod"]);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private WorkspaceConfig Load(string json)
    {
        var path = Path.Combine(_directory, "tessera.json");
        File.WriteAllText(path, json);
        return WorkspaceConfig.Load(path);
    }
}
