using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Tessera.Server.Tests;

/// <summary>The schedules: the hourly incremental run evaluates batch audiences over changed profiles; the nightly batch run over all.</summary>
public sealed class SegmentationScheduleTests
{
    [Fact]
    public async Task The_incremental_run_realizes_batch_audiences_of_changed_profiles_and_the_nightly_run_all()
    {
        await using var server = await ApiServer.StartAsync();
        var schedule = server.App.Services.GetRequiredService<SegmentationScheduleService>();
        var runs = new System.Collections.Concurrent.ConcurrentQueue<bool>();
        var ran = new SemaphoreSlim(0);
        schedule.Ran += full =>
        {
            runs.Enqueue(full);
            ran.Release();
        };
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        using (var created = await admin.PostAsync("/segmentation/v1/audiences", Http.Json("""
            {"id":"home-then-cart","name":"home-then-cart","publish":true,
             "pql":"chain(xEvent, timestamp, [A: WHAT(page = \"home\"), B: WHAT(page = \"cart\")])"}
            """), ct))
        {
            Assert.Equal("batch", (await created.ExpectAsync(HttpStatusCode.Created)).Str("mode"));
        }
        using (var posted = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/web/events", Http.Json("""
            [{"_id":"e1","timestamp":"2026-11-01T10:00:00Z","ecid":"K1","page":"home"},
             {"_id":"e2","timestamp":"2026-11-01T10:05:00Z","ecid":"K1","page":"cart"}]
            """), ct))
        {
            await posted.ExpectAsync(HttpStatusCode.OK);
        }
        await server.Workspace.Streaming!.WhenIdleAsync();
        Assert.Empty(server.Workspace.Memberships.Members("prod", "home-then-cart")); // a batch audience: not streamed

        server.Time.Advance(TimeSpan.FromMinutes(60));
        Assert.True(await ran.WaitAsync(TimeSpan.FromSeconds(30), ct));
        Assert.Equal(["ECID:K1"], server.Workspace.Memberships.Members("prod", "home-then-cart").Select(m => m.ProfileId));

        // The nightly run (midnight UTC; the server started at noon) sees every profile.
        server.Time.Advance(TimeSpan.FromHours(11));
        while (!runs.Contains(true))
        {
            Assert.True(await ran.WaitAsync(TimeSpan.FromSeconds(30), ct));
        }
        Assert.Single(server.Workspace.Memberships.Members("prod", "home-then-cart"));
    }
}
