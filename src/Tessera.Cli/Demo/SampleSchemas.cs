namespace Tessera.Cli.Demo;

/// <summary>The demo's schemas and mappings, as a data engineer would write them (JSON documents).</summary>
internal static class SampleSchemas
{
    public const string CrmProfile = """
        {
          "name": "crm-profile",
          "class": "profile",
          "description": "Customer master from the CRM export",
          "fieldGroups": [
            {
              "name": "loyalty",
              "fields": {
                "loyalty": {
                  "type": "object",
                  "fields": {
                    "id": { "type": "string", "identity": { "namespace": "LoyaltyID" } },
                    "tier": { "type": "string", "enum": ["bronze", "silver", "gold", "platinum"] },
                    "points": { "type": "int", "min": 0 }
                  }
                }
              }
            },
            {
              "name": "consents",
              "fields": {
                "consent": { "type": "object", "fields": { "email": { "type": "bool" }, "sms": { "type": "bool" } } }
              }
            }
          ],
          "fields": {
            "crmId": { "type": "string", "required": true, "pattern": "^[0-9]{8}$", "identity": { "namespace": "CRMID", "primary": true } },
            "email": { "type": "string", "maxLength": 254, "pattern": "^[^@\\s]+@[^@\\s]+$", "identity": { "namespace": "Email" } },
            "phone": { "type": "string", "identity": { "namespace": "Phone" } },
            "firstName": { "type": "string", "maxLength": 100 },
            "lastName": { "type": "string", "maxLength": 100 },
            "birthDate": { "type": "date" },
            "address": { "type": "object", "fields": { "city": { "type": "string" }, "postalCode": { "type": "string", "maxLength": 10 }, "country": { "type": "string", "maxLength": 2 } } },
            "updatedAt": { "type": "date-time", "lastUpdated": true }
          }
        }
        """;

    public const string CrmMapping = """
        {
          "fields": {
            "customer_id": "crmId", "email": "email", "phone": "phone", "first_name": "firstName", "last_name": "lastName",
            "birth_date": "birthDate", "city": "address.city", "zip": "address.postalCode", "country": "address.country",
            "loyalty_id": "loyalty.id", "tier": "loyalty.tier", "points": "loyalty.points",
            "email_optin": "consent.email", "sms_optin": "consent.sms", "updated": "updatedAt"
          },
          "formats": { "birth_date": "M/d/yyyy", "updated": "yyyyMMddHHmmss" }
        }
        """;

    public const string PosOrder = """
        {
          "name": "pos-order",
          "class": "event",
          "description": "Point-of-sale and e-commerce orders",
          "fields": {
            "crmId": { "type": "string", "identity": { "namespace": "CRMID", "primary": true } },
            "store": { "type": "string" },
            "channel": { "type": "string", "enum": ["store", "web"] },
            "items": { "type": "int", "min": 1 },
            "total": { "type": "double", "min": 0 }
          }
        }
        """;

    public const string OrderMapping = """
        {
          "delimiter": ";",
          "fields": { "order_no": "_id", "order_time": "timestamp", "customer": "crmId", "store": "store", "channel": "channel", "items": "items", "amount": "total" },
          "formats": { "order_time": "M/d/yyyy H:mm" }
        }
        """;

    public const string WebEvent = """
        {
          "name": "web-event",
          "class": "event",
          "description": "Web behaviour from the site's SDK",
          "fields": {
            "eventType": { "type": "string", "required": true, "enum": ["page.view", "product.view", "cart.add", "checkout", "login"] },
            "page": { "type": "object", "fields": { "url": { "type": "string", "maxLength": 2048 }, "name": { "type": "string" } } },
            "commerce": { "type": "object", "fields": { "productId": { "type": "string" }, "price": { "type": "double", "min": 0 } } }
          }
        }
        """;
}
