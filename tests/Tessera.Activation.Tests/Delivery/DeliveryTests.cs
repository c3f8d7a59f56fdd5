using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Activation.Delivery;
using Tessera.Segmentation;
using Tessera.Tests.Shared;

namespace Tessera.Activation.Tests.Delivery;

public sealed class DeliveryTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task First_activation_backfills_members_then_only_changes_follow_in_feed_order()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        await ws.CustomersAsync(Enumerable.Range(1, 250), i => i % 2 == 0 ? "gold" : "silver");
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address), Token);

        var backfill = await ws.Activation.DrainAsync("prod", "hook", Token);
        Assert.All(backfill, r => Assert.Equal(RunStatuses.Delivered, r.Status));
        Assert.Equal(DeliveryKinds.Backfill, backfill[0].Kind);
        var sent = ActivationWorkspace.Records(receiver.Accepted);
        Assert.Equal(125, sent.Count);
        Assert.All(sent, r => Assert.Equal("add", r.Operation));
        Assert.Equal(Enumerable.Range(1, 250).Where(i => i % 2 == 0).Select(i => $"CRMID:c{i}").Order(StringComparer.Ordinal), sent.Select(r => r.Profile).Order(StringComparer.Ordinal));

        // Format: the mapped keys, hashed as the mapping says, the attribute, the auth header and the idempotency key.
        var first = receiver.Accepted.First();
        Assert.Equal("/hooks/tessera", first.Path);
        Assert.Equal("Bearer secret-token", first.Authorization);
        Assert.StartsWith("application/json", first.ContentType, StringComparison.Ordinal);
        using (var document = JsonDocument.Parse(first.Body))
        {
            Assert.Equal(first.IdempotencyKey, document.RootElement.GetProperty("idempotencyKey").GetString());
            var record = document.RootElement.GetProperty("records")[0];
            var profile = record.GetProperty("profileId").GetString()!;
            var n = profile["CRMID:c".Length..];
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"user{n}@example.com"))), record.GetProperty("identities").GetProperty("email")[0].GetString());
            Assert.Equal($"c{n}", record.GetProperty("identities").GetProperty("crmId")[0].GetString());
            Assert.Equal("gold", record.GetProperty("attributes").GetProperty("tier").GetString());
            Assert.Equal("ext-gold", record.GetProperty("externalAudienceId").GetString());
        }

        // Changes: 2 leaves gold, 3 joins; only those two are sent, in feed order.
        await ws.CustomersAsync([2], _ => "silver");
        await ws.CustomersAsync([3], _ => "gold");
        ws.Time.Advance(TimeSpan.FromMinutes(1));
        await ws.EvaluateAsync();
        var before = receiver.Requests.Count;
        var runs = await ws.Activation.DrainAsync("prod", "hook", Token);
        var feedRun = Assert.Single(runs);
        Assert.Equal(DeliveryKinds.Feed, feedRun.Kind);
        Assert.Equal(2, feedRun.Activated);
        var changes = ActivationWorkspace.Records(receiver.Accepted.Skip(before));
        Assert.Equal([("add", "CRMID:c3"), ("remove", "CRMID:c2")], changes.Select(c => (c.Operation, c.Profile)).Order().ToList());
        Assert.Equal(ws.Workspace.Memberships.LastSequence("prod"), ws.Workspace.Memberships.Cursor("prod", ActivationService.Consumer("hook")));

        // Monitoring: every run recorded, every request audited with the SHA-256 of its payload.
        var recorded = ws.Activation.Log.Runs("prod", "hook");
        Assert.Equal(backfill.Count + 1, recorded.Count);
        var audit = ws.Activation.Log.Audit("prod", "hook").ToList();
        Assert.Equal(receiver.Accepted.Count(), audit.Count);
        Assert.Equal(receiver.Accepted.Select(r => Convert.ToHexStringLower(SHA256.HashData(r.Body))), audit.Select(a => a.PayloadSha256));
        Assert.Equal(receiver.Accepted.Select(r => r.IdempotencyKey), audit.Select(a => a.IdempotencyKey));
    }

    [Fact]
    public async Task A_micro_batch_waits_for_its_count_or_its_age()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address, maxRecords: 5), Token);
        await ws.CustomersAsync(Enumerable.Range(1, 3), _ => "gold");
        await ws.EvaluateAsync();
        Assert.Null(await ws.Activation.DeliverOnceAsync("prod", "hook", cancellationToken: Token));
        ws.Time.Advance(TimeSpan.FromSeconds(10));
        var aged = await ws.Activation.DeliverOnceAsync("prod", "hook", cancellationToken: Token);
        Assert.Equal(3, aged!.Activated);

        await ws.CustomersAsync(Enumerable.Range(10, 7), _ => "gold");
        await ws.EvaluateAsync();
        var full = await ws.Activation.DeliverOnceAsync("prod", "hook", cancellationToken: Token);
        Assert.Equal(5, full!.Activated);
        Assert.Null(await ws.Activation.DeliverOnceAsync("prod", "hook", cancellationToken: Token));
    }

    [Fact]
    public async Task Profiles_without_consent_are_excluded_and_counted()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        // 1–4 consent, 5–7 refuse, 8–10 never said (unknown counts as no by default).
        await ws.CustomersAsync(Enumerable.Range(1, 10), _ => "gold", i => i <= 4 ? true : i <= 7 ? false : null);
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address, consent: "email"), Token);
        var run = Assert.Single(await ws.Activation.DrainAsync("prod", "hook", Token));
        Assert.Equal(10, run.Received);
        Assert.Equal(4, run.Activated);
        Assert.Equal(6, run.Excluded[ExclusionReasons.Consent]);
        Assert.Equal(Enumerable.Range(1, 4).Select(i => $"CRMID:c{i}").Order(StringComparer.Ordinal),
            ActivationWorkspace.Records(receiver.Accepted).Select(r => r.Profile).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Unknown_consent_counts_as_the_sandboxes_default()
    {
        var settings = new ActivationSettings { DefaultConsentBySandbox = { ["prod"] = "yes" }, RetryBaseDelayMilliseconds = 1, AllowedPrivateNetworks = [ActivationWorkspace.LocalNetwork] };
        await using var ws = await ActivationWorkspace.CreateAsync(settings);
        await using var receiver = await LocalReceiver.StartAsync(Token);
        await ws.CustomersAsync(Enumerable.Range(1, 6), _ => "gold", i => i <= 2 ? false : null);
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address, consent: "email"), Token);
        var run = Assert.Single(await ws.Activation.DrainAsync("prod", "hook", Token));
        Assert.Equal(4, run.Activated);
        Assert.Equal(2, run.Excluded[ExclusionReasons.Consent]);
    }

    [Fact]
    public async Task Invalid_destinations_are_refused_naming_the_field_and_rule()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        var hook = ws.Webhook(new Uri("http://127.0.0.1:9/"));
        async Task<string> Refusal(Activation.Destinations.Destination d) =>
            (await Assert.ThrowsAsync<CatalogException>(() => ws.Activation.CreateAsync("prod", d, Token))).Message;

        Assert.Contains("connector 'fax' is not a connector type", await Refusal(hook with { Connector = "fax" }), StringComparison.Ordinal);
        Assert.Contains("settings.endpoint", await Refusal(hook with { Settings = new() { ["endpoint"] = "not a url" } }), StringComparison.Ordinal);
        Assert.Contains("identities[0].source 'Fax' is not an identity namespace", await Refusal(hook with { Identities = [new() { Source = "Fax", Target = "fax" }] }), StringComparison.Ordinal);
        Assert.Contains("identities[0].hash 'md5'", await Refusal(hook with { Identities = [new() { Source = "Email", Target = "e", Hash = "md5" }] }), StringComparison.Ordinal);
        Assert.Contains("consent 'carrier-pigeon'", await Refusal(hook with { Consent = "carrier-pigeon" }), StringComparison.Ordinal);
        var draft = await ws.Workspace.Audiences.CreateAsync("prod", "draft", "tier = \"x\"");
        Assert.Contains("only a published audience can be activated", await Refusal(hook with { Audiences = [new() { AudienceId = draft.Id }] }), StringComparison.Ordinal);
        Assert.Contains("a file destination needs a schedule", await Refusal(hook with { Connector = "file" }), StringComparison.Ordinal);
    }
}

public sealed class UpdateTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Identity_changes_and_consent_withdrawal_of_members_are_sent_and_nothing_else()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        await ws.CustomersAsync(Enumerable.Range(1, 3), _ => "gold", _ => true);
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address, consent: "email"), Token);
        await ws.Activation.DrainAsync("prod", "hook", Token);
        ws.Activation.TakeTouched("prod");
        var before = receiver.Requests.Count;

        // Unchanged data written again: nothing to send.
        await ws.CustomersAsync([3], _ => "gold", _ => true);
        Assert.Null(await ws.Activation.DeliverUpdatesAsync("prod", "hook", ws.Activation.TakeTouched("prod"), Token));

        // 1 gets a new email (an identity change), 2 withdraws consent.
        await ws.CustomersAsync([1], _ => "gold", _ => true, _ => "new1@example.com");
        await ws.CustomersAsync([2], _ => "gold", _ => false);
        var run = await ws.Activation.DeliverUpdatesAsync("prod", "hook", ws.Activation.TakeTouched("prod"), Token);
        Assert.Equal(DeliveryKinds.Update, run!.Kind);
        Assert.Equal(1, run.Excluded[ExclusionReasons.Consent]);
        var sent = ActivationWorkspace.Records(receiver.Accepted.Skip(before));
        Assert.Equal([("remove", "CRMID:c2"), ("update", "CRMID:c1")], sent.Select(r => (r.Operation, r.Profile)).Order().ToList());
        using (var body = System.Text.Json.JsonDocument.Parse(receiver.Accepted.Last().Body))
        {
            var update = body.RootElement.GetProperty("records").EnumerateArray().Single(r => r.GetProperty("operation").GetString() == "update");
            Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("new1@example.com"))),
                update.GetProperty("identities").GetProperty("email").EnumerateArray().Select(e => e.GetString()));
        }

        // 2 consents again: added again.
        before = receiver.Requests.Count;
        await ws.CustomersAsync([2], _ => "gold", _ => true);
        await ws.Activation.DeliverUpdatesAsync("prod", "hook", ws.Activation.TakeTouched("prod"), Token);
        Assert.Equal([("add", "CRMID:c2")], ActivationWorkspace.Records(receiver.Accepted.Skip(before)).Select(r => (r.Operation, r.Profile)).ToList());
    }

    [Fact]
    public async Task New_identities_of_a_member_are_sent_once_whether_the_update_or_the_feed_goes_first()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        await ws.CustomersAsync(Enumerable.Range(1, 2), _ => "gold");
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address), Token);
        await ws.Activation.DrainAsync("prod", "hook", Token);
        ws.Activation.TakeTouched("prod");

        // 1's record links a new email: the update pass sends it, then the next run's existing change (the same
        // member under one more identity) finds nothing the destination does not have.
        var before = receiver.Requests.Count;
        var fromFeed = ws.Workspace.Memberships.LastSequence("prod");
        await ws.CustomersAsync([1], _ => "gold", email: _ => "new1@example.com");
        await ws.Activation.DeliverUpdatesAsync("prod", "hook", ws.Activation.TakeTouched("prod"), Token);
        ws.Time.Advance(TimeSpan.FromMinutes(1));
        await ws.EvaluateAsync();
        var existing = Assert.Single(ws.Workspace.Memberships.Read("prod", fromFeed, 100));
        Assert.Equal((MembershipStatus.Existing, "CRMID:c1"), (existing.Status, existing.ProfileId));
        var feedRun = Assert.Single(await ws.Activation.DrainAsync("prod", "hook", Token));
        Assert.Equal((0, 1), (feedRun.Activated, feedRun.Excluded[ExclusionReasons.Unchanged]));
        var sent = ActivationWorkspace.Records(receiver.Accepted.Skip(before));
        Assert.Equal([("update", "CRMID:c1")], sent.Select(r => (r.Operation, r.Profile)).ToList());
        Assert.Equal(ws.Workspace.Memberships.LastSequence("prod"), ws.Workspace.Memberships.Cursor("prod", ActivationService.Consumer("hook")));

        // 2's record links a new email, and the feed goes first: its add carries it, and the update pass has nothing left.
        before = receiver.Requests.Count;
        fromFeed = ws.Workspace.Memberships.LastSequence("prod");
        await ws.CustomersAsync([2], _ => "gold", email: _ => "new2@example.com");
        ws.Time.Advance(TimeSpan.FromMinutes(1));
        await ws.EvaluateAsync();
        Assert.Equal(MembershipStatus.Existing, Assert.Single(ws.Workspace.Memberships.Read("prod", fromFeed, 100)).Status);
        Assert.Equal(1, Assert.Single(await ws.Activation.DrainAsync("prod", "hook", Token)).Activated);
        Assert.Null(await ws.Activation.DeliverUpdatesAsync("prod", "hook", ws.Activation.TakeTouched("prod"), Token));
        Assert.Equal([("add", "CRMID:c2")], ActivationWorkspace.Records(receiver.Accepted.Skip(before)).Select(r => (r.Operation, r.Profile)).ToList());
        using var body = JsonDocument.Parse(receiver.Accepted.Last().Body);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("new2@example.com"))),
            body.RootElement.GetProperty("records")[0].GetProperty("identities").GetProperty("email").EnumerateArray().Select(e => e.GetString()));
    }
}
