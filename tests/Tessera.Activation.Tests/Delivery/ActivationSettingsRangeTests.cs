using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Server;

namespace Tessera.Activation.Tests.Delivery;

/// <summary>
/// Every numeric activation setting has a range (docs/limits.md): a workspace whose <c>tessera.json</c> sets one outside it
/// does not open (<c>CONFIG_INVALID</c> naming the setting, its value and the range), instead of failing in Polly or
/// making no sense once delivery runs.
/// </summary>
public sealed class ActivationSettingsRangeTests
{
    /// <summary>Each setting (its name in <c>tessera.json</c>) with its least and greatest value.</summary>
    public static TheoryData<string, long, long> Limits => new()
    {
        { "maxAttempts", 1, 100 },
        { "retryBaseDelayMilliseconds", 1, 60_000 },
        { "attemptTimeoutSeconds", 1, 3_600 },
        { "maxRetryAfterSeconds", 1, 86_400 },
        { "circuitBreakSeconds", 1, 86_400 },
        { "deadLetterAfterHours", 1, 720 },
        { "pollMilliseconds", 10, 60_000 },
        { "deliveryParallelism", 1, 256 },
        { "maxRunsKept", 1, int.MaxValue },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public void A_setting_just_outside_its_range_is_CONFIG_INVALID_naming_the_setting_its_value_and_the_range(string name, long min, long max)
    {
        var outside = max == int.MaxValue ? new[] { min - 1, -1 } : [min - 1, max + 1, -1];
        foreach (var value in outside)
        {
            var error = Assert.Throws<CatalogException>(() => Load(name, value));
            Assert.Equal("CONFIG_INVALID", error.Code);
            var range = max == int.MaxValue ? $"must be at least {min}" : $"must be between {min} and {max}";
            Assert.Contains($"tessera.json: activation.{name} {range}, not {value}: ", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Limits))]
    public void A_setting_at_either_end_of_its_range_is_taken(string name, long min, long max)
    {
        foreach (var value in new[] { min, max })
        {
            var settings = Load(name, value).Activation;
            Assert.Equal(value, Assert.Single(settings.Ranges(), r => r.Name == $"activation.{name}").Value);
        }
    }

    /// <summary>
    /// A regression guard of the ranges chosen: Polly builds a destination's pipeline with every setting at either end
    /// of its range, and refuses the values the ranges keep out (a break under half a second, a timeout of nothing).
    /// </summary>
    [Fact]
    public void Polly_takes_every_setting_at_either_end_of_its_range_and_refuses_what_the_ranges_keep_out()
    {
        var least = new ActivationSettings { MaxAttempts = 1, RetryBaseDelayMilliseconds = 1, AttemptTimeoutSeconds = 1, MaxRetryAfterSeconds = 1, CircuitBreakSeconds = 1 };
        var most = new ActivationSettings
        {
            MaxAttempts = ActivationSettings.MaxAttemptsCeiling,
            RetryBaseDelayMilliseconds = ActivationSettings.RetryBaseDelayMillisecondsCeiling,
            AttemptTimeoutSeconds = ActivationSettings.AttemptTimeoutSecondsCeiling,
            MaxRetryAfterSeconds = ActivationSettings.MaxRetryAfterSecondsCeiling,
            CircuitBreakSeconds = ActivationSettings.CircuitBreakSecondsCeiling,
        };
        foreach (var settings in new[] { least, most })
        {
            Assert.All(settings.Ranges(), r => Assert.Null(r.Problem));
            using var sender = new HttpSender(Hook(), settings, TimeProvider.System);
        }
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => new HttpSender(Hook(), new ActivationSettings { CircuitBreakSeconds = 0 }, TimeProvider.System));
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => new HttpSender(Hook(), new ActivationSettings { AttemptTimeoutSeconds = 0 }, TimeProvider.System));
    }

    private static WorkspaceConfig Load(string name, long value)
    {
        var directory = Directory.CreateTempSubdirectory("tessera-activation-range-").FullName;
        try
        {
            var path = Path.Combine(directory, Workspace.ConfigFile);
            File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, long>> { ["activation"] = new() { [name] = value } }));
            return WorkspaceConfig.Load(path);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Destination Hook() => new()
    {
        Name = "hook",
        Connector = "webhook",
        Settings = new(StringComparer.Ordinal) { ["endpoint"] = "https://example.com/hook" },
    };
}
