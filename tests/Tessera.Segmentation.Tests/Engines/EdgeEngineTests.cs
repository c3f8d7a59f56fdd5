using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Identity.Graph;

namespace Tessera.Segmentation.Tests.Engines;

/// <summary>The edge engine beside a running streaming engine, whose converted profiles it reuses.</summary>
public sealed class EdgeEngineTests
{
    private const string Sandbox = "prod";

    [Fact]
    public async Task The_edge_reuses_what_the_streaming_engine_converted_but_only_events_the_profile_still_holds()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var workspace = test.Workspace;
        await workspace.Catalog.CreateDatasetAsync(Sandbox, new DatasetDefinition { Name = "short", Schema = "web", EventTtl = TimeSpan.FromHours(2) });
        var cart = await workspace.Audiences.CreateAsync(Sandbox, "cart", "chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 24 hours before now)])", id: "cart");
        var big = await workspace.Audiences.CreateAsync(Sandbox, "big", "chain(xEvent, timestamp, [A: WHAT(price > 50) WHEN(< 24 hours before now)])", id: "big");
        await workspace.Audiences.PublishAsync(Sandbox, "cart");
        await workspace.Audiences.PublishAsync(Sandbox, "big");
        Assert.Equal(("edge", "edge"), (cart.Mode, big.Mode));
        var engine = workspace.StartStreaming();
        var visitor = new IdentityKey("ECID", "K1");

        // 10:30 cart (kept 2 hours, till 12:30), 11:50 home; the streaming engine evaluates and keeps both converted.
        await test.StreamAsync("short", """[{"_id":"e1","timestamp":"2026-06-10T10:30:00Z","ecid":"K1","page":"cart"},{"_id":"e2","timestamp":"2026-06-10T11:50:00Z","ecid":"K1","page":"home"}]""");
        await engine.WhenIdleAsync();
        Assert.Equal(["cart"], (await workspace.Edge.EvaluateAsync(Sandbox, visitor, null, [], [])).Audiences);

        // At 13:00 the cart event is past the dataset's TTL: the profile no longer holds it, though the engine's kept
        // conversion still does. The edge request's own event (price 80) is read from the store, the home event reused.
        test.Time.Advance(TimeSpan.FromHours(1));
        using var page = JsonDocument.Parse("""[{"_id":"e3","timestamp":"2026-06-10T13:00:00Z","ecid":"K1","page":"product","price":80}]""");
        var answer = await workspace.Edge.EvaluateAsync(Sandbox, visitor, "short", [.. page.RootElement.EnumerateArray()], []);
        Assert.Equal(["big"], answer.Audiences);
    }

    [Fact]
    public async Task The_engines_keep_only_the_event_fields_their_audiences_read_and_the_edge_reuses_them_only_under_the_same_audiences()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var workspace = test.Workspace;
        await workspace.Audiences.CreateAsync(Sandbox, "cart", "chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 24 hours before now)])", id: "cart");
        await workspace.Audiences.PublishAsync(Sandbox, "cart");
        var engine = workspace.StartStreaming();
        var visitor = new IdentityKey("ECID", "K1");
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-06-10T11:30:00Z","ecid":"K1","page":"cart","price":80}]""");
        await engine.WhenIdleAsync();
        var kept = engine.LastEvaluated(Sandbox, null, "ECID:K1")!.Values.Single().Record;
        Assert.Equal(["page", "timestamp"], Enumerable.Range(0, kept.Count).Select(kept.NameAt).Order(StringComparer.Ordinal));

        // A new audience reads the price, which the streaming engine's conversion left out: the edge reads the event again.
        await workspace.Audiences.CreateAsync(Sandbox, "big", "chain(xEvent, timestamp, [A: WHAT(price > 50) WHEN(< 24 hours before now)])", id: "big");
        await workspace.Audiences.PublishAsync(Sandbox, "big");
        Assert.Equal(["big", "cart"], (await workspace.Edge.EvaluateAsync(Sandbox, visitor, null, [], [])).Audiences.Order(StringComparer.Ordinal));
    }
}
