using System.Text.Json;

namespace Tessera.Segmentation.Tests;

/// <summary>States and statuses are written as the API documents them (lower-case names).</summary>
public sealed class AudienceJsonTests
{
    [Fact]
    public void States_and_statuses_are_lower_case_names()
    {
        Assert.Equal("\"published\"", JsonSerializer.Serialize(AudienceState.Published));
        Assert.Equal("\"exited\"", JsonSerializer.Serialize(MembershipStatus.Exited));
        Assert.Equal(AudienceState.Inactive, JsonSerializer.Deserialize<AudienceState>("\"inactive\""));
    }
}
