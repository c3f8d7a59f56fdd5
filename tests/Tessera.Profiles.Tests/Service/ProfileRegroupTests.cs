using static Tessera.Profiles.Tests.Service.ProfileWorkspace;

namespace Tessera.Profiles.Tests.Service;

/// <summary>Views cached before a graph merges or splits are regrouped, and equal what a restart builds from the store.</summary>
public sealed class ProfileRegroupTests
{
    [Fact]
    public async Task A_graph_merge_and_a_split_regroup_cached_views_to_what_the_store_gives()
    {
        await using var test = await CreateAsync();
        await test.StreamAsync("crm", """[{"crmId":"1","firstName":"Ann"},{"crmId":"2","firstName":"Bob"}]""");
        await test.StreamAsync("web", """[{"_id":"v1","timestamp":"2026-11-01T08:00:00Z","ecid":"K1","page":"home"}]""");
        // Cache the three separate profiles.
        Assert.Equal(["ECID:K1"], test.Lookup("ECID:K1")!.Identities);
        Assert.Equal(["CRMID:1"], test.Lookup("CRMID:1")!.Identities);
        Assert.Equal(["CRMID:2"], test.Lookup("CRMID:2")!.Identities);

        // The device logs in as Ann: the graphs merge.
        test.Time.Advance(TimeSpan.FromMinutes(1));
        await test.StreamAsync("web", """[{"_id":"v2","timestamp":"2026-11-01T09:00:00Z","ecid":"K1","crmId":"1","page":"cart"}]""");
        var merged = test.Lookup("ECID:K1")!;
        Assert.Equal(["CRMID:1", "ECID:K1"], merged.Identities);
        Assert.Equal("\"Ann\"", merged.Attributes["firstName"]!.ToJsonString());
        Assert.Equal(2, merged.Timeline.Count);

        // Later Bob logs in on the same device: CRM ids are unique, the newest link wins, the device moves to Bob.
        test.Time.Advance(TimeSpan.FromMinutes(1));
        await test.StreamAsync("web", """[{"_id":"v3","timestamp":"2026-11-01T10:00:00Z","ecid":"K1","crmId":"2","page":"account"}]""");
        var loaded = test.Profiles.IdentitiesLoaded;
        var ann = test.Lookup("CRMID:1")!;
        var bob = test.Lookup("CRMID:2")!;
        Assert.Equal(["CRMID:1"], ann.Identities);
        Assert.Equal(["CRMID:2", "ECID:K1"], bob.Identities);
        Assert.Equal(3, bob.Timeline.Count);
        Assert.Equal(loaded, test.Profiles.IdentitiesLoaded); // Regrouped from the cached views alone.

        var cached = new[] { "CRMID:1", "CRMID:2", "ECID:K1" }.Select(i => Json(test.Lookup(i))).ToList();
        await test.ReopenAsync();
        var rebuilt = new[] { "CRMID:1", "CRMID:2", "ECID:K1" }.Select(i => Json(test.Lookup(i))).ToList();
        Assert.Equal(rebuilt, cached);
    }

    [Fact]
    public async Task Facts_arriving_for_a_cached_profile_update_it_without_a_read_from_the_store()
    {
        await using var test = await CreateAsync();
        await test.StreamAsync("crm", """[{"crmId":"1","firstName":"Ann","tier":"silver"}]""");
        Assert.Equal("\"silver\"", test.Lookup("CRMID:1")!.Attributes["tier"]!.ToJsonString());
        var loaded = test.Profiles.IdentitiesLoaded;
        test.Time.Advance(TimeSpan.FromMinutes(1));
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold"}]""");
        await test.StreamAsync("app", """[{"_id":"a1","timestamp":"2026-11-01T10:00:00Z","crmId":"1"}]""");
        var updated = test.Lookup("CRMID:1")!;
        Assert.Equal("\"gold\"", updated.Attributes["tier"]!.ToJsonString());
        Assert.Equal(1, updated.Timeline.Count);
        Assert.Equal(loaded, test.Profiles.IdentitiesLoaded);
        var cached = Json(updated);
        await test.ReopenAsync();
        Assert.Equal(Json(test.Lookup("CRMID:1")), cached);
    }
}
