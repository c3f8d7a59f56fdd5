using Tessera.Abstractions;
using Tessera.Ingestion;
using Tessera.Ingestion.Mapping;

namespace Tessera.Conformance.Tests;

/// <summary>dbt's jaffle_shop seeds: a tiny CRM (customers), an order feed and its payments.</summary>
[Trait("Category", "Conformance")]
public sealed class JaffleShopTests
{
    private static async Task<ConformanceWorkspace> ShopAsync()
    {
        var test = await ConformanceWorkspace.CreateAsync();
        await test.CreateNamespaceAsync("JafflePayment", IdentityType.NonPeople);
        await test.CreateNamespaceAsync("JaffleOrder", IdentityType.NonPeople);
        await test.DefineAsync("""
            {"name":"customers","class":"profile","fields":{
              "id":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
              "first_name":{"type":"string","required":true},
              "last_name":{"type":"string","pattern":"^[A-Z]\\.$"}}}
            """);
        await test.DefineAsync("""
            {"name":"orders","class":"event","fields":{
              "customerId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
              "status":{"type":"string","enum":["placed","shipped","completed","return_pending","returned"]}}}
            """);
        // Payments carry no customer and no time: records of their own (not profile data), keyed by
        // payment id and linked to their order.
        await test.DefineAsync("""
            {"name":"payments","class":"profile","fields":{
              "id":{"type":"string","required":true,"identity":{"namespace":"JafflePayment","primary":true}},
              "order_id":{"type":"string","required":true,"identity":{"namespace":"JaffleOrder"}},
              "payment_method":{"type":"string","enum":["credit_card","coupon","bank_transfer","gift_card"]},
              "amount":{"type":"long","min":0}}}
            """, profileEnabled: false);
        return test;
    }

    private static async Task<BatchInfo> IngestAsync(ConformanceWorkspace test, string dataset, string file, MappingSpec? mapping = null)
    {
        var batch = await test.Ingestion.IngestFileAsync("prod", dataset, SharedDatasets.Require($"jaffle_shop/{file}"), mapping);
        Assert.True(batch.Counts.Failed == 0, ConformanceWorkspace.Describe(test.Quarantine(batch.Id)));
        Assert.Equal(BatchStatus.Success, batch.Status);
        return batch;
    }

    [Fact]
    public async Task Customers_orders_and_payments_ingest_with_their_exact_counts()
    {
        SharedDatasets.Require("jaffle_shop/raw_customers.csv");
        await using var test = await ShopAsync();

        var customers = await IngestAsync(test, "customers", "raw_customers.csv");
        var orders = await IngestAsync(test, "orders", "raw_orders.csv", new MappingSpec
        {
            Fields = new Dictionary<string, string?> { ["id"] = "_id", ["user_id"] = "customerId", ["order_date"] = "timestamp" },
            Formats = new Dictionary<string, string> { ["order_date"] = "yyyy-MM-dd" },
        });
        var payments = await IngestAsync(test, "payments", "raw_payments.csv");

        Assert.Equal((100L, 100L), (customers.Counts.Input, customers.Counts.Accepted));
        Assert.Equal((99L, 99L, 0L), (orders.Counts.Input, orders.Counts.Accepted, orders.Counts.Duplicates));
        Assert.Equal((113L, 113L), (payments.Counts.Input, payments.Counts.Accepted));
        var facts = test.Facts().ToList();
        Assert.Equal(100, facts.Count(f => f.Key[4] == "customers"));
        Assert.Equal(99, facts.Count(f => f.Key[4] == "orders"));
        Assert.Equal(113, facts.Count(f => f.Key[4] == "payments"));

        // Order 1 (2018-01-01, returned) belongs to customer 1, Michael P.; its id is the row's own.
        var michael = Assert.Single(test.FactsOf(FactKeys.RecordTag, "CRMID", "1"));
        Assert.Equal("Michael", michael.GetProperty("record").GetProperty("first_name").GetString());
        var order = Assert.Single(test.FactsOf(FactKeys.EventTag, "CRMID", "1"), o => o.GetProperty("record").GetProperty("_id").GetString() == "1");
        Assert.Equal("2018-01-01T00:00:00.000Z", order.GetProperty("record").GetProperty("timestamp").GetString());
        Assert.Equal("returned", order.GetProperty("record").GetProperty("status").GetString());
        var payment = Assert.Single(test.FactsOf(FactKeys.RecordTag, "JafflePayment", "1"));
        Assert.Equal(1000, payment.GetProperty("record").GetProperty("amount").GetInt64());
        Assert.Contains(payment.GetProperty("identities").EnumerateArray(), i => i.GetProperty("namespace").GetString() == "JaffleOrder" && i.GetProperty("id").GetString() == "1");
    }
}
