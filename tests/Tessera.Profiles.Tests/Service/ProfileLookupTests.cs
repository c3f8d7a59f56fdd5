using Tessera.Abstractions;
using Tessera.Identity.Graph;
using static Tessera.Profiles.Tests.Service.ProfileWorkspace;

namespace Tessera.Profiles.Tests.Service;

public sealed class ProfileLookupTests
{
    [Fact]
    public async Task A_newer_record_replaces_the_older_field_by_field_and_an_explicit_null_erases()
    {
        await using var test = await CreateAsync();
        await test.StreamAsync("crm", """[{"crmId":"1","email":"ann@example.com","firstName":"Ann","address":{"city":"Paris","zip":"75001"},"interests":["golf"]}]""");
        test.Time.Advance(TimeSpan.FromMinutes(1));
        await test.StreamAsync("crm", """[{"crmId":"1","address":{"city":"Lyon"},"firstName":null,"interests":["tennis"]}]""");

        var profile = test.Lookup("CRMID:1")!;
        Assert.Equal("""{"address":{"city":"Lyon","zip":"75001"},"crmId":"1","email":"ann@example.com","interests":["golf","tennis"]}""",
            Canonical(profile.Attributes));
        var city = Assert.Single(profile.Sources, s => s.Path == "address.city");
        Assert.Equal(("crm", Start.AddMinutes(1)), (city.Dataset, city.Time));
        Assert.Equal(2, Assert.Single(profile.Fragments).Versions);
    }

    [Fact]
    public async Task The_schemas_last_updated_field_decides_which_record_is_newer()
    {
        await using var test = await CreateAsync();
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold","updatedAt":"2026-10-05T00:00:00Z"}]""");
        test.Time.Advance(TimeSpan.FromMinutes(1));
        // Arrives later, but was last updated earlier: it does not win.
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"silver","updatedAt":"2026-10-01T00:00:00Z"}]""");
        Assert.Equal("\"gold\"", test.Lookup("CRMID:1")!.Attributes["tier"]!.ToJsonString());
    }

    [Fact]
    public async Task Timestamp_and_dataset_precedence_policies_pick_different_values()
    {
        await using var test = await CreateAsync();
        await test.Workspace.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "newest" }, 5);
        await test.Workspace.Catalog.CreateMergePolicyAsync("prod",
            new MergePolicy { Name = "loyalty-first", AttributeMerge = AttributeMerge.DatasetPrecedence, Datasets = ["loyalty", "crm"] }, 5);
        await test.Workspace.Catalog.CreateMergePolicyAsync("prod",
            new MergePolicy { Name = "loyalty-only", AttributeMerge = AttributeMerge.DatasetPrecedence, Datasets = ["loyalty"] }, 5);
        await test.StreamAsync("loyalty", """[{"crmId":"1","tier":"gold"}]""");
        test.Time.Advance(TimeSpan.FromMinutes(1));
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"silver","firstName":"Ann"}]""");

        Assert.Equal("\"silver\"", test.Lookup("CRMID:1", "newest")!.Attributes["tier"]!.ToJsonString());
        var precedence = test.Lookup("CRMID:1", "loyalty-first")!;
        Assert.Equal("\"gold\"", precedence.Attributes["tier"]!.ToJsonString());
        Assert.Equal("\"Ann\"", precedence.Attributes["firstName"]!.ToJsonString()); // Loyalty has none: the next dataset's.
        var only = test.Lookup("CRMID:1", "loyalty-only")!;
        Assert.False(only.Attributes.ContainsKey("firstName")); // Datasets not listed are left out.
        Assert.Equal(["loyalty"], only.Fragments.Select(f => f.Dataset));
    }

    [Fact]
    public async Task Stitching_joins_the_graphs_identities_and_without_it_a_profile_is_one_primary_identity()
    {
        await using var test = await CreateAsync();
        await test.Workspace.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "stitched" }, 5);
        await test.Workspace.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "unstitched", Stitching = IdentityStitching.None }, 5);
        await test.StreamAsync("crm", """[{"crmId":"1","firstName":"Ann"}]""");
        await test.StreamAsync("web", """[{"_id":"v1","timestamp":"2026-11-01T11:00:00Z","ecid":"K1","crmId":"1","page":"home"}]""");

        var stitched = test.Lookup("ECID:K1", "stitched")!;
        Assert.Equal(["CRMID:1", "ECID:K1"], stitched.Identities);
        Assert.Equal("\"Ann\"", stitched.Attributes["firstName"]!.ToJsonString());
        Assert.Equal(1, stitched.Timeline.Count);

        var alone = test.Lookup("ECID:K1", "unstitched")!;
        Assert.Equal(["ECID:K1"], alone.Identities);
        Assert.Empty(alone.Attributes);
        Assert.Equal(1, alone.Timeline.Count);
        Assert.Equal(0, test.Lookup("CRMID:1", "unstitched")!.Timeline.Count);
    }

    [Fact]
    public async Task For_evaluation_a_profile_is_its_attributes_with_every_kept_event_oldest_first()
    {
        await using var test = await CreateAsync(webTtl: TimeSpan.FromDays(1));
        await test.StreamAsync("crm", """[{"crmId":"1","firstName":"Ann","address":{"city":"Lyon"}}]""");
        await test.StreamAsync("web", """
            [{"_id":"v2","timestamp":"2026-11-01T11:00:00Z","ecid":"K1","crmId":"1","page":"cart"},
             {"_id":"v1","timestamp":"2026-11-01T10:00:00Z","ecid":"K1","page":"home"},
             {"_id":"old","timestamp":"2026-10-30T10:00:00Z","ecid":"K1","page":"gone"}]
            """);

        var profile = test.Profiles.ForEvaluation("prod", new IdentityKey("ECID", "K1"))!;
        Assert.Equal("CRMID:1", profile.Primary);
        Assert.Equal(["CRMID:1", "ECID:K1"], profile.Identities);
        Assert.Equal("Lyon", (string?)profile.Profile["address"]!["city"]);
        // Past the web TTL "old" is left out; the rest in time order, each the stored record.
        Assert.Equal(["home", "cart"], profile.Profile["xEvent"]!.AsArray().Select(e => (string?)e!["page"]));
        Assert.Equal("2026-11-01T10:00:00.000Z", (string?)profile.Profile["xEvent"]![0]!["timestamp"]); // as stored (normalized)
        Assert.Null(test.Profiles.ForEvaluation("prod", new IdentityKey("ECID", "nobody")));
    }

    [Fact]
    public async Task Events_expire_with_their_datasets_ttl_as_the_clock_moves()
    {
        await using var test = await CreateAsync(webTtl: TimeSpan.FromDays(1));
        await test.StreamAsync("web", """
            [{"_id":"old","timestamp":"2026-10-30T12:00:00Z","ecid":"K1"},
             {"_id":"new","timestamp":"2026-11-01T11:00:00Z","ecid":"K1"}]
            """);
        await test.StreamAsync("app", """[{"_id":"app","timestamp":"2026-10-01T12:00:00Z","ecid":"K1"}]""");

        var profile = test.Lookup("ECID:K1")!;
        Assert.Equal(["new", "app"], profile.Timeline.Events.Select(e => e.Id)); // "old" is past the web TTL; app keeps all.
        test.Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(["app"], test.Lookup("ECID:K1")!.Timeline.Events.Select(e => e.Id));
    }

    [Fact]
    public async Task A_stored_dataset_with_an_out_of_bounds_ttl_keeps_its_events_and_is_named_by_the_expiry_pass()
    {
        await using var test = await CreateAsync();
        // As a workspace made before the TTL bounds were checked holds them: written past CreateDatasetAsync's check.
        var store = new Tessera.Catalog.CatalogStore(test.Workspace.Store);
        foreach (var (name, ttl) in new[] { ("web", TimeSpan.FromDays(-1)), ("app", TimeSpan.FromDays(1_000_000)) })
        {
            var stored = test.Workspace.Catalog.GetDataset("prod", name)! with { EventTtl = ttl };
            await store.PutAsync("dataset", "prod", name, stored, Tessera.Catalog.CatalogJson.Default.DatasetDefinition);
        }
        await test.StreamAsync("web", """[{"_id":"w","timestamp":"2026-10-30T12:00:00Z","ecid":"K1"}]""");
        await test.StreamAsync("app", """[{"_id":"a","timestamp":"2026-10-01T12:00:00Z","ecid":"K1"}]""");

        var report = await test.Profiles.ExpireAsync("prod", TestContext.Current.CancellationToken);

        Assert.Equal(0, report.EventsExpired);
        Assert.Empty(report.DatasetsWithTtl);
        Assert.Equal([
            "app (event TTL 1000000.00:00:00: must be more than zero and at most 36500 days)",
            "web (event TTL -1.00:00:00: must be more than zero and at most 36500 days)"], report.DatasetsWithInvalidTtl!.Order(StringComparer.Ordinal));
        Assert.Equal(["app/a", "web/w"], test.StoredEvents("ECID:K1"));
        Assert.Equal(["w", "a"], test.Lookup("ECID:K1")!.Timeline.Events.Select(e => e.Id));
    }

    [Fact]
    public async Task Expiry_deletes_expired_events_from_the_store_and_leaves_the_rest()
    {
        await using var test = await CreateAsync(webTtl: TimeSpan.FromDays(1));
        await test.StreamAsync("web", """
            [{"_id":"old","timestamp":"2026-10-30T12:00:00Z","ecid":"K1"},
             {"_id":"new","timestamp":"2026-11-01T11:00:00Z","ecid":"K1"}]
            """);
        await test.StreamAsync("app", """[{"_id":"kept","timestamp":"2020-01-01T00:00:00Z","ecid":"K1"}]""");
        var before = Json(test.Lookup("ECID:K1"));

        var report = await test.Profiles.ExpireAsync("prod", TestContext.Current.CancellationToken);
        Assert.Equal(1, report.EventsExpired);
        Assert.Equal(["web"], report.DatasetsWithTtl);
        Assert.Equal(["app/kept", "web/new"], test.StoredEvents("ECID:K1"));
        Assert.Equal(before, Json(test.Lookup("ECID:K1"))); // The view had already left it out.

        test.Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, (await test.Profiles.ExpireAsync("prod", TestContext.Current.CancellationToken)).EventsExpired);
        Assert.Equal(["app/kept"], test.StoredEvents("ECID:K1"));
        Assert.Equal(0, (await test.Profiles.ExpireAsync("prod", TestContext.Current.CancellationToken)).EventsExpired);
    }

    [Fact]
    public async Task A_profile_with_nothing_left_ceases_to_exist()
    {
        await using var test = await CreateAsync(webTtl: TimeSpan.FromHours(1));
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-11-01T11:30:00Z","ecid":"K1"}]""");
        Assert.NotNull(test.Lookup("ECID:K1"));
        test.Time.Advance(TimeSpan.FromHours(1));
        Assert.Null(test.Lookup("ECID:K1"));
        Assert.Null(test.Lookup("ECID:never-seen"));
    }

    [Fact]
    public async Task The_event_cap_keeps_the_newest_and_flags_the_profile()
    {
        await using var test = await CreateAsync(config: """{"profiles":{"maxEventsPerProfile":3}}""");
        await test.StreamAsync("app", string.Concat("[", string.Join(",", Enumerable.Range(1, 5).Select(i =>
            $$"""{"_id":"e{{i}}","timestamp":"2026-11-01T0{{i}}:00:00Z","ecid":"K1"}""")), "]"));
        var timeline = test.Lookup("ECID:K1")!.Timeline;
        Assert.True(timeline.CapReached);
        Assert.Equal(3, timeline.Count);
        Assert.Equal(["e5", "e4", "e3"], timeline.Events.Select(e => e.Id));
    }

    [Fact]
    public async Task Events_are_paged_newest_first_and_deduplicated_across_identities()
    {
        await using var test = await CreateAsync();
        await test.StreamAsync("app", """
            [{"_id":"e1","timestamp":"2026-11-01T01:00:00Z","ecid":"K1","crmId":"1"},
             {"_id":"e2","timestamp":"2026-11-01T02:00:00Z","ecid":"K1"},
             {"_id":"e3","timestamp":"2026-11-01T03:00:00Z","ecid":"K1"}]
            """);
        // The same event again, stored under the person's own id: one event in the profile, at its newest time.
        await test.StreamAsync("app", """[{"_id":"e1","timestamp":"2026-11-01T04:00:00Z","crmId":"1"}]""");
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-11-01T00:30:00Z","crmId":"1"}]""");

        var first = test.Lookup("CRMID:1", events: 2)!;
        Assert.Equal(4, first.Timeline.Count);
        Assert.Equal(["e1", "e3"], first.Timeline.Events.Select(e => e.Id));
        var second = test.Lookup("CRMID:1", events: 2, before: first.Timeline.Next)!;
        Assert.Equal([("app", "e2"), ("web", "e1")], second.Timeline.Events.Select(e => (e.Dataset, e.Id)));
        Assert.Null(second.Timeline.Next);
        Assert.Equal("CRMID:1", first.Timeline.Events[0].Identity);
    }

    private static string Canonical(System.Text.Json.Nodes.JsonObject attributes) => attributes.ToJsonString();
}
