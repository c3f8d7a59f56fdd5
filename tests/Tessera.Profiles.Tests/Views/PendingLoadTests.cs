using Tessera.Identity.Graph;
using Tessera.Profiles.Views;
using static Tessera.Profiles.Tests.Views.ViewFixtures;

namespace Tessera.Profiles.Tests.Views;

/// <summary>How a load read outside the owner's lock completes against what changed in the cache meanwhile.</summary>
public sealed class PendingLoadTests
{
    private static readonly IdentityKey Ann = Id("CRMID:1");
    private static readonly IdentityKey Device = Id("ECID:K1");
    private static readonly MergeRule ByTime = Timestamp("crm");

    [Fact]
    public void Of_two_loads_of_one_profile_the_later_completes_with_the_view_the_earlier_cached()
    {
        var views = new ProfileViewSet(capacity: 10, _ => throw new InvalidOperationException("no read under the lock"));
        Assert.Null(views.TryGet([Ann], out var first));
        Assert.Null(views.TryGet([Ann], out var second));
        var cached = views.Complete([Ann], first!, Loaded([Ann], """{"name":"Ann"}"""));
        views.ApplyVersion("crm", Ann, Version("""{"tier":"gold"}""", minute: 5));

        // The second load read the store before the fact: the cached view, which has it, is the answer.
        var view = views.Complete([Ann], second!, Loaded([Ann], """{"name":"Ann"}"""));
        Assert.Same(cached, view);
        Assert.Equal("\"gold\"", ValueOf(view, "tier"));
        Assert.Equal(1, views.Count);
        Assert.False(views.Tracks(Device));
    }

    [Fact]
    public void A_cached_member_evicted_during_a_load_is_read_again_with_the_rest()
    {
        var reads = new List<string>();
        var views = new ProfileViewSet(capacity: 10, members =>
        {
            reads.Add(string.Join(",", members.Select(m => m.ToString()).Order(StringComparer.Ordinal)));
            return Loaded(members, """{"name":"again"}""");
        });
        views.Get([Ann]);
        Assert.Null(views.TryGet([Ann, Device], out var pending));
        Assert.Equal([Device], pending!.Identities);
        views.Evict(Ann); // Ann's facts changed on disk: the cached view that the read relied on is gone.

        var view = views.Complete([Ann, Device], pending, Loaded([Device], """{"name":"stale"}"""));
        Assert.Equal(["CRMID:1", "CRMID:1,ECID:K1"], reads);
        Assert.True(view.HasMembers([Ann, Device]));
        Assert.Equal("\"again\"", ValueOf(view, "name"));
        Assert.Equal(1, views.Count); // Only the graph's view is cached.
    }

    [Fact]
    public void An_evicted_pending_identity_makes_the_load_stale_and_the_facts_recorded_for_it_are_dropped()
    {
        var reads = 0;
        var views = new ProfileViewSet(capacity: 10, members =>
        {
            reads++;
            return Loaded(members, """{"name":"fresh"}""");
        });
        Assert.Null(views.TryGet([Ann], out var pending));
        views.ApplyVersion("crm", Ann, Version("""{"tier":"gold"}""", minute: 5));
        views.Evict(Ann);
        Assert.True(pending!.IsStale);

        var view = views.Complete([Ann], pending, Loaded([Ann], """{"name":"stale"}"""));
        Assert.Equal(1, reads);
        Assert.Equal("\"fresh\"", ValueOf(view, "name"));
        Assert.Null(ValueOf(view, "tier")); // Dropped with the stale load: the fresh read gets what the store holds (here, no tier).
    }

    [Fact]
    public void A_version_the_load_already_read_and_also_recorded_meanwhile_counts_once()
    {
        var views = new ProfileViewSet(capacity: 10, _ => throw new InvalidOperationException("no read under the lock"));
        Assert.Null(views.TryGet([Ann], out var pending));
        var committed = Version("""{"tier":"gold"}""", minute: 5);
        views.ApplyVersion("crm", Ann, committed); // Notified while the load runs...
        var loaded = Loaded([Ann], """{"name":"Ann"}""");
        loaded.ApplyVersion("crm", Ann, committed); // ...and already in the store when the load read it.

        var view = views.Complete([Ann], pending!, loaded);
        Assert.Equal(2, Assert.Single(view.Fragments).Versions);
        Assert.Equal("\"gold\"", ValueOf(view, "tier"));
    }

    private static string? ValueOf(ProfileView view, string path) => view.Attributes(ByTime).TryGetValue(path, out var value) ? value.Json : null;

    private static ProfileView Loaded(IReadOnlyCollection<IdentityKey> members, string record)
    {
        var view = new ProfileView(members);
        foreach (var member in members)
        {
            view.ApplyVersion("crm", member, Version(record, minute: 1));
        }
        return view;
    }
}
