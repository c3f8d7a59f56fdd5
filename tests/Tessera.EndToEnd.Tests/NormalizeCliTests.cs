using System.Text.Json;

namespace Tessera.EndToEnd.Tests;

/// <summary><c>tessera identity normalize</c> through the real CLI process (no workspace needed).</summary>
public sealed class NormalizeCliTests
{
    [Fact]
    public async Task Prints_the_normalized_value_and_its_sha256_as_exactly_three_json_fields()
    {
        // UID2's published example (unifiedid.com, "Normalization and Encoding").
        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken,
            "identity", "normalize", "--namespace", "email", "--for", "ttd", "JaneSaoirse+Work@gmail.com", "--json");

        Assert.True(run.ExitCode == 0, run.Errors);
        using var json = JsonDocument.Parse(run.Output);
        Assert.Equal(["normalized", "sha256Hex", "sha256Base64"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("janesaoirse@gmail.com", json.RootElement.GetProperty("normalized").GetString());
        Assert.Equal("92ee26057ed9dea2535d6c8b141d48373932476599196e00352254896db5888f", json.RootElement.GetProperty("sha256Hex").GetString());
        Assert.Equal("ku4mBX7Z3qJTXWyLFB1INzkyR2WZGW4ANSJUiW21iI8=", json.RootElement.GetProperty("sha256Base64").GetString());
    }

    [Fact]
    public async Task Phone_for_meta_is_digits_with_the_country_code()
    {
        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken,
            "identity", "normalize", "--namespace", "phone", "--for", "meta", "+44 844 412 4653");

        Assert.True(run.ExitCode == 0, run.Errors);
        Assert.Contains("normalized     448444124653", run.Output, StringComparison.Ordinal);
        Assert.Contains("sha256 hex     dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_value_exits_1_with_the_reason_and_an_unknown_platform_is_a_usage_error()
    {
        var invalid = await CliProcess.RunAsync(TestContext.Current.CancellationToken,
            "identity", "normalize", "--namespace", "email", "--for", "google", "ann@");
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("IDENTITY_INVALID_EMAIL", invalid.Errors, StringComparison.Ordinal);
        Assert.Contains("'ann@' is not an email address", invalid.Errors, StringComparison.Ordinal);

        var usage = await CliProcess.RunAsync(TestContext.Current.CancellationToken,
            "identity", "normalize", "--namespace", "email", "--for", "myspace", "ann@example.com");
        Assert.Equal(2, usage.ExitCode);
    }
}
