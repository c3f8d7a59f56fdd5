namespace Tessera.Generator;

/// <summary>
/// The Tessera schema documents and ingestion mappings for the generated files, as a data engineer
/// would write them (docs/ingestion.md). <see cref="RetailGenerator.WriteOffline"/> writes them to
/// <c>schemas/NAME.json</c> and <c>mappings/DATASET.json</c>.
/// </summary>
public static class RetailSchemas
{
    public const string CrmProfileName = "crm-profile";
    public const string LoyaltyAccountName = "loyalty-account";
    public const string RetailOrderName = "retail-order";
    public const string WebEventName = "web-event";

    public const string CrmDataset = "crm";
    public const string LoyaltyDataset = "loyalty";
    public const string PosOrdersDataset = "pos-orders";
    public const string WebOrdersDataset = "web-orders";
    public const string WebEventsDataset = "web";

    /// <summary>CRM customer master. The email has no pattern: junk values are the identity layer's to drop.</summary>
    public const string CrmProfile = """
        {
          "name": "crm-profile",
          "class": "profile",
          "description": "Customer master from the CRM export",
          "fieldGroups": [
            {
              "name": "consents",
              "fields": {
                "consent": { "type": "object", "fields": { "email": { "type": "bool" }, "sms": { "type": "bool" }, "adTargeting": { "type": "bool" } } }
              }
            }
          ],
          "fields": {
            "crmId": { "type": "string", "required": true, "pattern": "^[0-9]{8}$", "identity": { "namespace": "CRMID", "primary": true } },
            "email": { "type": "string", "maxLength": 254, "identity": { "namespace": "Email" } },
            "phone": { "type": "string", "maxLength": 32, "identity": { "namespace": "Phone" } },
            "firstName": { "type": "string", "maxLength": 100 },
            "lastName": { "type": "string", "maxLength": 100 },
            "birthDate": { "type": "date" },
            "address": {
              "type": "object",
              "fields": {
                "street": { "type": "string", "maxLength": 200 },
                "city": { "type": "string", "maxLength": 100 },
                "state": { "type": "string", "maxLength": 2 },
                "postalCode": { "type": "string", "maxLength": 10 },
                "country": { "type": "string", "maxLength": 2 }
              }
            },
            "updatedAt": { "type": "date-time", "lastUpdated": true }
          }
        }
        """;

    /// <summary>crm_customers.csv (comma, header) onto <see cref="CrmProfile"/>.</summary>
    public const string CrmMapping = """
        {
          "format": "csv",
          "delimiter": ",",
          "header": true,
          "fields": {
            "crm_id": "crmId", "email": "email", "phone": "phone", "first_name": "firstName", "last_name": "lastName",
            "birth_date": "birthDate", "street": "address.street", "city": "address.city", "state": "address.state",
            "zip": "address.postalCode", "country": "address.country",
            "email_optin": "consent.email", "sms_optin": "consent.sms", "ads_optin": "consent.adTargeting", "updated": "updatedAt"
          },
          "formats": { "birth_date": "M/d/yyyy", "updated": "yyyyMMddHHmmss" }
        }
        """;

    /// <summary>Loyalty accounts (JSON Lines with these field names, no mapping needed).</summary>
    public const string LoyaltyAccount = """
        {
          "name": "loyalty-account",
          "class": "profile",
          "description": "Loyalty programme accounts",
          "fields": {
            "loyaltyId": { "type": "string", "required": true, "pattern": "^[0-9]{11}$", "identity": { "namespace": "LoyaltyID", "primary": true } },
            "crmId": { "type": "string", "pattern": "^[0-9]{8}$", "identity": { "namespace": "CRMID" } },
            "tier": { "type": "string", "enum": ["bronze", "silver", "gold", "platinum"] },
            "points": { "type": "int", "min": 0 },
            "enrolledOn": { "type": "date" },
            "updatedAt": { "type": "date-time", "lastUpdated": true }
          }
        }
        """;

    /// <summary>Store and e-commerce orders (both order datasets).</summary>
    public const string RetailOrder = """
        {
          "name": "retail-order",
          "class": "event",
          "description": "Point-of-sale and e-commerce orders",
          "fields": {
            "crmId": { "type": "string", "identity": { "namespace": "CRMID", "primary": true } },
            "loyaltyId": { "type": "string", "identity": { "namespace": "LoyaltyID" } },
            "email": { "type": "string", "maxLength": 254, "identity": { "namespace": "Email" } },
            "ecid": { "type": "string", "identity": { "namespace": "ECID" } },
            "channel": { "type": "string", "enum": ["store", "web", "app"] },
            "storeId": { "type": "string" },
            "items": { "type": "int", "min": 1 },
            "total": { "type": "double", "min": 0 },
            "currency": { "type": "string", "maxLength": 3 }
          }
        }
        """;

    /// <summary>pos_orders.csv (semicolon, header, US-style date-times) onto <see cref="RetailOrder"/>.</summary>
    public const string PosOrdersMapping = """
        {
          "format": "csv",
          "delimiter": ";",
          "header": true,
          "fields": {
            "order_no": "_id", "order_date": "timestamp", "store_id": "storeId", "crm_id": "crmId", "loyalty_card": "loyaltyId",
            "items": "items", "amount": "total", "currency": "currency", "channel": "channel"
          },
          "formats": { "order_date": "M/d/yyyy h:mm:ss tt" }
        }
        """;

    /// <summary>web_orders.parquet onto <see cref="RetailOrder"/>.</summary>
    public const string WebOrdersMapping = """
        {
          "format": "parquet",
          "fields": {
            "order_id": "_id", "ordered_at": "timestamp", "crm_id": "crmId", "email": "email", "ecid": "ecid",
            "channel": "channel", "items": "items", "total": "total", "currency": "currency"
          }
        }
        """;

    /// <summary>Web and app behaviour; identities come in the XDM <c>identityMap</c> (ECID, IDFA, GAID, Email, CRMID).</summary>
    public const string WebEvent = """
        {
          "name": "web-event",
          "class": "event",
          "description": "Web and app behaviour from the site's and the apps' SDKs",
          "fields": {
            "eventType": { "type": "string", "required": true, "enum": ["page.view", "product.view", "search", "cart.add", "checkout", "login", "app.open", "screen.view"] },
            "channel": { "type": "string", "enum": ["web", "ios", "android"] },
            "page": { "type": "object", "fields": { "url": { "type": "string", "maxLength": 2048 }, "name": { "type": "string" } } },
            "commerce": {
              "type": "object",
              "fields": {
                "productId": { "type": "string" },
                "productName": { "type": "string" },
                "price": { "type": "double", "min": 0 },
                "quantity": { "type": "int", "min": 1 },
                "orderId": { "type": "string" },
                "total": { "type": "double", "min": 0 }
              }
            },
            "search": { "type": "object", "fields": { "query": { "type": "string", "maxLength": 200 } } }
          }
        }
        """;
}
