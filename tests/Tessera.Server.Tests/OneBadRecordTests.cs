using System.Net;

namespace Tessera.Server.Tests;

/// <summary>One bad record in a streaming request is refused alone: the good record beside it is stored, whatever the bad one holds.</summary>
public sealed class OneBadRecordTests
{
    public static readonly TheoryData<string> BadProfileRecords =
    [
        "1", "\"x\"", "null", "true", "[]", "[{}]", "{}",
        """{"crmId":123}""", """{"crmId":""}""", """{"crmId":" "}""", """{"crmId":null}""", """{"crmId":["a"]}""", """{"crmId":{"a":1}}""",
        "{\"crmId\":\"" + new string('x', 5000) + "\"}", """{"crmId":"\u0000"}""", """{"crmId":"a\ud800"}""",
        """{"crmId":"b1","age":1e400}""", """{"crmId":"b1","age":-1e400}""", """{"crmId":"b1","age":9223372036854775808}""", """{"crmId":"b1","age":1.5}""",
        """{"crmId":"b1","age":"5"}""", """{"crmId":"b1","signup":"2026-02-30"}""", """{"crmId":"b1","signup":"99999-01-01"}""", """{"crmId":"b1","signup":-62135596801000}""",
        """{"crmId":"b1","email":"not an email"}""", """{"crmId":"b1","email":""}""", """{"crmId":"b1","email":123}""",
        """{"crmId":"b1","crmId":"b2"}""", """{"crmId":"b1","unknown":1}""",
        """{"crmId":"b1","identityMap":null}""", """{"crmId":"b1","identityMap":[]}""", """{"crmId":"b1","identityMap":{"Email":"x"}}""",
        """{"crmId":"b1","identityMap":{"Email":[1]}}""", """{"crmId":"b1","identityMap":{"Email":[{"id":null}]}}""", """{"crmId":"b1","identityMap":{"Email":[{"id":"a@b.c","primary":"yes"}]}}""",
        """{"crmId":"b1","identityMap":{"Nope":[{"id":"x"}]}}""", """{"crmId":"b1","identityMap":{"\ud800":[{"id":"x"}]}}""", """{"crmId":"b1","identityMap":{"Phone":[{"id":"abc"}]}}""",
        """{"crmId":"b1","identityMap":{"ECID":[{"id":"e1","primary":true}],"CRMID":[{"id":"b2","primary":true}]}}""",
        "{\"crmId\":\"b1\",\"age\":" + new string('[', 100) + new string(']', 100) + "}",
        "{\"crmId\":\"b1\"," + string.Join(",", Enumerable.Range(0, 3000).Select(i => $"\"f{i}\":{i}")) + "}",
        "{\"crmId\":\"b1\",\"email\":\"" + new string('a', 2_000_000) + "@x.com\"}",
    ];

    public static readonly TheoryData<string> BadEvents =
    [
        "1", "null", "{}", """{"_id":null,"timestamp":"2026-11-01T11:00:00Z","ecid":"K5"}""", """{"_id":123,"timestamp":"2026-11-01T11:00:00Z","ecid":"K5"}""",
        """{"_id":"","timestamp":"2026-11-01T11:00:00Z","ecid":"K5"}""", "{\"_id\":\"" + new string('i', 100_000) + "\",\"timestamp\":\"2026-11-01T11:00:00Z\",\"ecid\":\"K5\"}",
        """{"_id":"b1","timestamp":"yesterday","ecid":"K5"}""", """{"_id":"b1","timestamp":1e20,"ecid":"K5"}""", """{"_id":"b1","timestamp":-1,"ecid":"K5"}""",
        """{"_id":"b1","timestamp":"0001-01-01T00:00:00Z","ecid":"K5"}""", """{"_id":"b1","timestamp":"9999-12-31T23:59:59.9999999Z","ecid":"K5"}""",
        """{"_id":"b1","timestamp":"2026-11-01T11:00:00+14:00","ecid":"K5"}""", """{"_id":"b1","timestamp":null,"ecid":"K5"}""", """{"_id":"b1","timestamp":"2026-11-01T11:00:00Z","ecid":null}""",
        """{"_id":"b1","timestamp":"2026-11-01T11:00:00Z","ecid":"K5","value":2147483648}""", """{"_id":"b1","timestamp":"2026-11-01T11:00:00Z","ecid":"K5","value":-1e400}""",
        """{"_id":"b1","timestamp":"2026-11-01T11:00:00Z","ecid":"\ud800"}""", """{"_id":"\ud800","timestamp":"2026-11-01T11:00:00Z","ecid":"K5"}""",
        """{"_id":"b1","timestamp":"2026-11-01T11:00:00Z","ecid":"K5","identityMap":{"Email":[{"id":"x@y.z","primary":true}]}}""",
    ];

    [Theory]
    [MemberData(nameof(BadProfileRecords))]
    public Task A_bad_profile_record_costs_only_itself(string bad) =>
        SendAsync("crm/records", """{"crmId":"good1","age":40}""", bad);

    [Theory]
    [MemberData(nameof(BadEvents))]
    public Task A_bad_event_costs_only_itself(string bad) =>
        SendAsync("web/events", """{"_id":"good1","timestamp":"2026-11-01T11:00:00Z","ecid":"K1","page":"home"}""", bad);

    private static async Task SendAsync(string path, string good, string bad)
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var response = await server.Client(server.Key.ProdCollect).PostAsync($"/collection/v1/datasets/{path}", Http.Json($"[{good},{bad}]"), ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.MultiStatus, $"{(int)response.StatusCode}: {text[..Math.Min(500, text.Length)]}");
        var body = await response.ReadJsonAsync();
        var records = body.GetProperty("records");
        Assert.Equal("accepted", records[0].Str("status"), ignoreCase: true);
        Assert.Equal(1 + (records[1].Str("status").Equals("accepted", StringComparison.OrdinalIgnoreCase) ? 1 : 0), body.GetProperty("counts").Long("accepted"));
    }
}
