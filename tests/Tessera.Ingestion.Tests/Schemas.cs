namespace Tessera.Ingestion.Tests;

/// <summary>The schemas the ingestion tests use.</summary>
internal static class Schemas
{
    /// <summary>A CRM profile exercising every field type and constraint.</summary>
    public const string Crm = """
        {"name":"crm","class":"profile","fields":{
          "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "email":{"type":"string","identity":{"namespace":"Email"}},
          "firstName":{"type":"string","maxLength":10},
          "age":{"type":"int","min":0,"max":150},
          "tier":{"type":"string","enum":["bronze","silver","gold"]},
          "zip":{"type":"string","pattern":"^[0-9]{5}$"},
          "birthDate":{"type":"date"},
          "lastSeen":{"type":"date-time"},
          "score":{"type":"double","min":0},
          "visits":{"type":"long"},
          "vip":{"type":"bool"},
          "address":{"type":"object","fields":{"city":{"type":"string","maxLength":12},"street":{"type":"string"}}},
          "tags":{"type":"array","items":{"type":"string","maxLength":5}},
          "attributes":{"type":"map","values":{"type":"int"}},
          "context":{"type":"object","open":true}}}
        """;

    /// <summary>Offline orders: an event per row, keyed by the customer's CRM id.</summary>
    public const string Orders = """
        {"name":"orders","class":"event","fields":{
          "customerId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "quantity":{"type":"int","min":0},
          "amount":{"type":"double","min":0}}}
        """;

    /// <summary>Web events with an identityMap and nothing else declared.</summary>
    public const string Web = """
        {"name":"web","class":"event","fields":{
          "page":{"type":"string"},
          "ecid":{"type":"string","identity":{"namespace":"ECID"}}}}
        """;
}
