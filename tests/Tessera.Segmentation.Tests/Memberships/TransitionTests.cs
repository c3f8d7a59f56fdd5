using Tessera.Segmentation.Memberships;
using static Tessera.Segmentation.Tests.Memberships.MembershipFixture;

namespace Tessera.Segmentation.Tests.Memberships;

public sealed class TransitionTests
{
    public static TheoryData<string, bool, string, string?> Table => new()
    {
        // before, qualifies, after, change emitted
        { "none", true, "realized", "realized" },
        { "none", false, "none", null },
        { "realized", true, "existing", null },
        { "realized", false, "exited", "exited" },
        { "existing", true, "existing", null },
        { "existing", false, "exited", "exited" },
        { "exited", true, "realized", "realized" },
        { "exited", false, "exited", null },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task A_verdict_moves_a_membership_and_emits_a_change_only_on_entry_and_exit(string before, bool qualifies, string after, string? change)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        var store = fixture.Memberships;
        // Drive the membership into the "before" state.
        var setup = before switch
        {
            "none" => [],
            "realized" => [true],
            "existing" => new[] { true, true },
            _ => [true, false],
        };
        var minute = 0;
        foreach (var verdict in setup)
        {
            await store.ApplyAsync("prod", [In("CRMID:1", "a") with { Qualifies = verdict }], Start.AddMinutes(minute++), cancellationToken);
        }
        Assert.Equal(before, Status(store.Get("prod", "a", "CRMID:1")));
        var last = store.LastSequence("prod");
        var at = Start.AddMinutes(minute);

        var emitted = await store.ApplyAsync("prod", [In("CRMID:1", "a") with { Qualifies = qualifies }], at, cancellationToken);

        var membership = store.Get("prod", "a", "CRMID:1");
        Assert.Equal(after, Status(membership));
        var changes = Feed(store, "prod", last);
        Assert.Equal(change is null ? 0 : 1, emitted);
        Assert.Equal(change is null ? [] : [change], changes.Select(c => Status(c.Status)));
        if (change is not null)
        {
            // Records compare lists by reference, so the identities are compared on their own.
            Assert.Equal(new MembershipChange(last + 1, "prod", "a", "CRMID:1", changes[0].Identities, changes[0].Status, at), changes[0]);
            Assert.Equal(["CRMID:1", "Email:1@x.com"], changes[0].Identities);
        }
        if (qualifies)
        {
            Assert.Equal(at, membership!.LastQualifiedAt);
        }
        if (after == "exited")
        {
            Assert.Equal(before == "exited" ? Start.AddMinutes(1) : at, membership!.ChangedAt);
        }
    }

    [Fact]
    public async Task Verdicts_in_one_batch_see_the_ones_before_them()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        var store = fixture.Memberships;

        var emitted = await store.ApplyAsync("prod",
            [In("CRMID:1", "a"), In("CRMID:1", "a"), Out("CRMID:1", "a"), In("CRMID:1", "a"), In("CRMID:2", "a"), In("CRMID:1", "b")], Start, cancellationToken);

        Assert.Equal(5, emitted);
        Assert.Equal(["a CRMID:1 realized", "a CRMID:1 exited", "a CRMID:1 realized", "a CRMID:2 realized", "b CRMID:1 realized"],
            Feed(store, "prod").Select(c => $"{c.AudienceId} {c.ProfileId} {Status(c.Status)}"));
        Assert.Equal([1L, 2, 3, 4, 5], Feed(store, "prod").Select(c => c.Sequence));
        Assert.Equal(new MembershipCounts(2, 0, 0), store.Counts("prod", "a"));
        Assert.Equal(["CRMID:1", "CRMID:2"], store.Members("prod", "a").Select(m => m.ProfileId));
        Assert.Equal(["a", "b"], store.Of("prod", "CRMID:1").Select(m => m.AudienceId));
    }

    [Fact]
    public async Task Sandboxes_have_their_own_feeds_and_memberships()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        var store = fixture.Memberships;
        await store.ApplyAsync("prod", [In("CRMID:1", "a")], Start, cancellationToken);
        await store.ApplyAsync("dev", [In("CRMID:1", "a"), In("CRMID:2", "a")], Start, cancellationToken);

        Assert.Equal(1, store.LastSequence("prod"));
        Assert.Equal(2, store.LastSequence("dev"));
        Assert.Single(store.Members("prod", "a"));
        Assert.Equal(2, store.Counts("dev", "a").Members);
        Assert.Empty(store.Members("prod", "a2"));
    }

    [Fact]
    public async Task Ids_with_the_separator_byte_are_refused()
    {
        using var fixture = new MembershipFixture();
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Memberships.ApplyAsync("prod", [In("CRMID:1\0x", "a")], Start, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Memberships.ApplyAsync("prod", [In("CRMID:1", "")], Start, TestContext.Current.CancellationToken));
    }

    private static string Status(Membership? membership) => membership is null ? "none" : Status(membership.Status);

    private static string Status(MembershipStatus status) => status.ToString().ToLowerInvariant();
}
