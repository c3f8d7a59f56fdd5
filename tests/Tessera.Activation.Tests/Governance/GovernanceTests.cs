using Tessera.Abstractions;
using Tessera.Activation.Delivery;
using Tessera.Activation.Governance;
using Tessera.Activation.Tests.Delivery;
using Tessera.Tests.Shared;

namespace Tessera.Activation.Tests.Governance;

public sealed class GovernanceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_forbidden_label_on_a_sent_identity_blocks_saving_with_the_lineage()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        var governance = ws.Activation.Governance;
        await governance.LabelAsync("prod", "crm", "email", ["C2"]);
        await governance.SavePolicyAsync("prod", new UsagePolicy { Name = "no-third-party-export", Labels = ["C2"], Actions = ["exportToThirdParty"] });
        var hook = ws.Webhook(new Uri("http://127.0.0.1:9/")) with { MarketingAction = "exportToThirdParty" };

        var refused = await Assert.ThrowsAsync<CatalogException>(() => ws.Activation.CreateAsync("prod", hook, Token));
        Assert.Equal("POLICY_VIOLATION", refused.Code);
        Assert.Contains("policy 'no-third-party-export' forbids C2 for 'exportToThirdParty'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("dataset crm → field email [C2] → identity Email as email → destination hook", refused.Message, StringComparison.Ordinal);
        Assert.Null(ws.Activation.Destinations.Get("prod", "hook"));

        // Another action, or no longer sending the email, is allowed.
        await ws.Activation.CreateAsync("prod", hook with { Name = "email-hook", MarketingAction = "emailTargeting" }, Token);
        await ws.Activation.CreateAsync("prod", hook with { Name = "crm-hook", Identities = [new() { Source = "CRMID", Target = "crmId" }] }, Token);
    }

    [Fact]
    public async Task A_label_on_a_field_an_audience_reads_or_on_its_dataset_reaches_the_destination_through_the_audience()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        var governance = ws.Activation.Governance;
        await governance.LabelAsync("prod", "crm", "tier", ["C5"]);
        await governance.SavePolicyAsync("prod", new UsagePolicy { Name = "no-interest-targeting", Labels = ["C5"], Actions = ["onsiteAdvertising"] });
        var hook = ws.Webhook(new Uri("http://127.0.0.1:9/")) with { MarketingAction = "onsiteAdvertising", Attributes = [] };
        var refused = await Assert.ThrowsAsync<CatalogException>(() => ws.Activation.CreateAsync("prod", hook, Token));
        Assert.Contains("dataset crm → field tier [C5] → audience gold → destination hook", refused.Message, StringComparison.Ordinal);

        // All labels together: a dataset label and a field label combine.
        await governance.SavePolicyAsync("prod", new UsagePolicy { Name = "no-interest-targeting", Labels = ["C5"], Actions = ["onsiteAdvertising"], Enabled = false });
        await governance.SavePolicyAsync("prod", new UsagePolicy { Name = "c1-and-c5", Labels = ["C1", "C5"], Match = "all", Actions = ["onsiteAdvertising"] });
        await ws.Activation.CreateAsync("prod", hook, Token);
        await governance.LabelAsync("prod", "crm", null, ["C1"]);
        var both = await Assert.ThrowsAsync<CatalogException>(() => ws.Activation.CreateAsync("prod", hook with { Name = "hook2" }, Token));
        Assert.Contains("policy 'c1-and-c5' forbids C1, C5", both.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_policy_made_after_activation_blocks_the_run_until_it_is_resolved()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        await ws.CustomersAsync(Enumerable.Range(1, 5), _ => "gold");
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address) with { MarketingAction = "exportToThirdParty" }, Token);
        await ws.Activation.Governance.LabelAsync("prod", "crm", "tier", ["C2"]);
        await ws.Activation.Governance.SavePolicyAsync("prod", new UsagePolicy { Name = "no-export", Labels = ["C2"], Actions = ["exportToThirdParty"] });

        var blocked = Assert.Single(await ws.Activation.DrainAsync("prod", "hook", Token));
        Assert.Equal(RunStatuses.Blocked, blocked.Status);
        Assert.Contains("dataset crm → field tier [C2]", blocked.Error, StringComparison.Ordinal);
        Assert.Empty(receiver.Requests);
        Assert.NotNull(ws.Activation.Log.State("prod", "hook").InFlight);

        await ws.Activation.Governance.DeletePolicyAsync("prod", "no-export");
        var delivered = Assert.Single(await ws.Activation.DrainAsync("prod", "hook", Token));
        Assert.Equal(RunStatuses.Delivered, delivered.Status);
        Assert.Equal(5, delivered.Activated);
    }

    [Fact]
    public async Task A_policy_made_after_activation_blocks_updates_too()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        await ws.CustomersAsync(Enumerable.Range(1, 2), _ => "gold");
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address) with { MarketingAction = "exportToThirdParty" }, Token);
        await ws.Activation.DrainAsync("prod", "hook", Token);
        ws.Activation.TakeTouched("prod");
        var before = receiver.Requests.Count;
        await ws.Activation.Governance.LabelAsync("prod", "crm", "tier", ["C2"]);
        await ws.Activation.Governance.SavePolicyAsync("prod", new UsagePolicy { Name = "no-export", Labels = ["C2"], Actions = ["exportToThirdParty"] });

        // No batch is due, but c1's record changes (a new email): the update is held by the policy as a batch would be.
        await ws.CustomersAsync([1], _ => "gold", email: _ => "new1@example.com");
        var blocked = await ws.Activation.DeliverUpdatesAsync("prod", "hook", ws.Activation.TakeTouched("prod"), Token);
        Assert.Equal((DeliveryKinds.Update, RunStatuses.Blocked), (blocked?.Kind, blocked?.Status));
        Assert.Contains("POLICY_VIOLATION: ", blocked!.Error, StringComparison.Ordinal);
        Assert.Equal(before, receiver.Requests.Count);
    }

    [Fact]
    public async Task Labels_and_policies_are_checked()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        var governance = ws.Activation.Governance;
        Assert.Equal("FIELD_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() => governance.LabelAsync("prod", "crm", "nope", ["C1"]))).Code);
        Assert.Equal("DATASET_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() => governance.LabelAsync("prod", "nope", null, ["C1"]))).Code);
        Assert.Equal("POLICY_INVALID", (await Assert.ThrowsAsync<CatalogException>(() => governance.LabelAsync("prod", "crm", null, ["1 bad"]))).Code);
        Assert.Equal("POLICY_INVALID", (await Assert.ThrowsAsync<CatalogException>(() => governance.SavePolicyAsync("prod", new UsagePolicy { Name = "p", Labels = ["C1"] }))).Code);
        Assert.Equal("POLICY_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() => governance.DeletePolicyAsync("prod", "p"))).Code);
    }
}
