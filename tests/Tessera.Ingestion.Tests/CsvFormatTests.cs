using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Ingestion.Mapping;

namespace Tessera.Ingestion.Tests;

public sealed class CsvFormatTests
{
    private static async Task<TestWorkspace> CrmAsync()
    {
        var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        return test;
    }

    private static StoredFact Crm(TestWorkspace test, string crmId) =>
        Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", crmId));

    [Fact]
    public async Task Comma_separated_with_a_header_is_typed_by_the_schema()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", """
            crmId,email,firstName,age,score,visits,vip,birthDate,lastSeen,tier
            00042,Ann@Example.com,Ann,41,12.5,9000000000,true,1985-04-01,2024-05-01T10:00:00+02:00,gold
            00043,bob@example.com,Bob,,0,1,false,,,
            """);

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal((2L, 2L, 0L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        Assert.Equal("csv", batch.Format);
        var ann = Crm(test, "00042");
        Assert.Equal("00042", ann.Text("crmId"));
        Assert.Equal(JsonValueKind.Number, ann.Record.GetProperty("age").ValueKind);
        Assert.Equal(41, ann.Record.GetProperty("age").GetInt32());
        Assert.Equal(12.5, ann.Record.GetProperty("score").GetDouble());
        Assert.Equal(9_000_000_000L, ann.Record.GetProperty("visits").GetInt64());
        Assert.True(ann.Record.GetProperty("vip").GetBoolean());
        Assert.Equal("1985-04-01", ann.Text("birthDate"));
        Assert.Equal("2024-05-01T08:00:00.000Z", ann.Text("lastSeen"));
        Assert.Equal(batch.Id, ann.Batch);
        Assert.Contains(("CRMID", "00042", true), ann.Identities);
        Assert.Contains(("Email", "ann@example.com", false), ann.Identities); // normalized: lower-cased
        // Empty cells are absent values, not empty strings.
        var bob = Crm(test, "00043");
        Assert.False(bob.Record.TryGetProperty("age", out _));
        Assert.False(bob.Record.TryGetProperty("tier", out _));
    }

    [Theory]
    [InlineData(";", "crm.csv")]
    [InlineData(null, "crm.csv")]
    public async Task Semicolon_separated_explicit_or_detected(string? delimiter, string name)
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile(name, "crmId;firstName;score\n00001;Ann;1.5\n00002;Bob;2\n");

        var batch = await test.IngestAsync("crm", path, new MappingSpec { Delimiter = delimiter });

        Assert.Equal(2, batch.Counts.Accepted);
        Assert.Equal("Ann", Crm(test, "00001").Text("firstName"));
        Assert.Equal(1.5, Crm(test, "00001").Record.GetProperty("score").GetDouble());
    }

    [Theory]
    [InlineData("\\t", "crm.csv")]
    [InlineData("tab", "crm.csv")]
    [InlineData(null, "crm.tsv")]
    public async Task Tab_separated(string? delimiter, string name)
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile(name, "crmId\tfirstName\taddress\n00001\tAnn Lee\tx\n");

        var batch = await test.IngestAsync("crm", path, new MappingSpec { Delimiter = delimiter, Fields = new Dictionary<string, string?> { ["address"] = "address.street" } });

        Assert.Equal(1, batch.Counts.Accepted);
        Assert.Equal("Ann Lee", Crm(test, "00001").Text("firstName"));
    }

    [Fact]
    public async Task Runs_of_whitespace_with_leading_spaces_and_tabs_separate_columns()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.txt", " crmId   firstName  age\r\n   00001 Ann   41\r\n\t00002\t\tBob \t 7  \r\n\r\n 00010  Cy 30\r\n");

        var batch = await test.IngestAsync("crm", path, new MappingSpec { Delimiter = "whitespace" });

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal(3, batch.Counts.Accepted);
        Assert.Equal("Bob", Crm(test, "00002").Text("firstName"));
        Assert.Equal(7, Crm(test, "00002").Record.GetProperty("age").GetInt32());
        Assert.Equal("00010", Crm(test, "00010").Text("crmId"));
    }

    [Fact]
    public async Task A_whitespace_row_with_the_wrong_number_of_columns_is_a_parse_error_with_its_line()
    {
        await using var test = await CrmAsync();
        var rows = string.Join('\n', ["crmId firstName age", .. Enumerable.Range(1, 30).Select(i => $"{i:D5} N{i} {i}"), "00099 Two Words 5"]);
        var path = test.WriteFile("crm.txt", rows);

        var batch = await test.IngestAsync("crm", path, new MappingSpec { Delimiter = "whitespace" });

        Assert.Equal(30, batch.Counts.Accepted);
        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal(31, entry.Row);
        Assert.Equal(32, entry.Line);
        Assert.Equal(ErrorCodes.ParseError, entry.Errors[0].Code);
        Assert.Contains("4 columns, expected 3", entry.Errors[0].Message, StringComparison.Ordinal);
        Assert.Contains("Two Words", entry.Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Headerless_files_take_their_column_names_from_the_mapping()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "00001,Ann,41\n00002,Bob,52\n");

        var batch = await test.IngestAsync("crm", path, new MappingSpec { Header = false, Columns = ["crmId", "firstName", "age"] });

        Assert.Equal(2, batch.Counts.Accepted);
        Assert.Equal(52, Crm(test, "00002").Record.GetProperty("age").GetInt32());
    }

    [Fact]
    public async Task Headerless_whitespace_files_too()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.txt", "  00001   Ann\n  00002   Bob\n");

        var batch = await test.IngestAsync("crm", path, new MappingSpec { Delimiter = "whitespace", Header = false, Columns = ["crmId", "firstName"] });

        Assert.Equal(2, batch.Counts.Accepted);
        Assert.Equal("Bob", Crm(test, "00002").Text("firstName"));
    }

    [Theory]
    [InlineData("%")]
    [InlineData("K")]
    [InlineData("yyyy-MM-dd %")]
    public async Task A_date_format_dotnet_cannot_read_is_refused_before_the_batch_names_its_column(string format)
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,born\n00001,2024-01-01\n");
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?> { ["born"] = "birthDate" },
            Formats = new Dictionary<string, string> { ["born"] = format },
        };

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", path, mapping));

        Assert.Equal(ErrorCodes.MappingError, error.Code);
        Assert.StartsWith("column 'born': '" + format + "' is not a .NET date and time format", error.Message, StringComparison.Ordinal);
        Assert.Empty(test.Facts());
    }

    [Fact]
    public async Task A_headerless_file_without_columns_is_refused()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "00001,Ann\n");

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", path, new MappingSpec { Header = false }));

        Assert.Equal(ErrorCodes.MappingError, error.Code);
        Assert.Contains("columns", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Columns_map_to_fields_including_nested_paths_and_can_be_ignored()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", """
            customer_id,given_name,town,road,internal_note,other
            00007,Ann,Lyon,Rue A,secret,zzz
            """);
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?>
            {
                ["customer_id"] = "crmId",
                ["given_name"] = "firstName",
                ["town"] = "address.city",
                ["road"] = "address.street",
                ["other"] = null,
            },
            Ignore = ["internal_note"],
        };

        var batch = await test.IngestAsync("crm", path, mapping);

        Assert.Equal(1, batch.Counts.Accepted);
        var fact = Crm(test, "00007");
        Assert.Equal("Lyon", fact.Text("address.city"));
        Assert.Equal("Rue A", fact.Text("address.street"));
        Assert.Null(fact.Text("internal_note"));
        Assert.Null(fact.Text("other"));
    }

    [Fact]
    public async Task Columns_map_to_identityMap_entries_with_a_chosen_primary()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Web);
        var path = test.WriteFile("web.csv", "event,at,cookie,mail,page\nev1,2024-05-01T10:00:00Z,E-1,a@x.com,/home\nev2,2024-05-01T11:00:00Z,E-2,,/cart\n");
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?>
            {
                ["event"] = "_id",
                ["at"] = "timestamp",
                ["cookie"] = "identityMap.ECID",
                ["mail"] = "identityMap.Email",
            },
            PrimaryIdentity = "Email",
        };

        var batch = await test.IngestAsync("web", path, mapping);

        Assert.Equal(2, batch.Counts.Accepted);
        var first = Assert.Single(test.FactsOf(FactKeys.EventTag, "prod", "Email", "a@x.com"));
        Assert.Equal("ev1", first.EventId);
        Assert.Equal([("ECID", "E-1", false), ("Email", "a@x.com", true)], first.Identities);
        // Without an email the row is keyed by its cookie.
        Assert.Equal("ev2", Assert.Single(test.FactsOf(FactKeys.EventTag, "prod", "ECID", "E-2")).EventId);
    }

    [Fact]
    public async Task A_column_mapped_to_an_unknown_field_is_rejected_by_the_schema()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,nickname\n00001,Annie\n");

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(BatchStatus.Failed, batch.Status);
        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal(("nickname", ErrorCodes.UnknownField), (entry.Errors[0].Path, entry.Errors[0].Code));
    }

    [Fact]
    public async Task Two_columns_mapped_to_one_field_are_refused()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "a,b\n1,2\n");
        var mapping = new MappingSpec { Fields = new Dictionary<string, string?> { ["a"] = "crmId", ["b"] = "crmId" } };

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", path, mapping));

        Assert.Equal(ErrorCodes.MappingError, error.Code);
    }

    [Fact]
    public async Task Per_column_formats_read_yyyyMMdd_and_M_d_yyyy_for_dates_and_date_times()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", """
            crmId,born,seen
            00001,19850401,3/7/2024
            00002,19991231,12/25/2023
            """);
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?> { ["born"] = "birthDate", ["seen"] = "lastSeen" },
            Formats = new Dictionary<string, string> { ["born"] = "yyyyMMdd", ["seen"] = "M/d/yyyy" },
        };

        var batch = await test.IngestAsync("crm", path, mapping);

        Assert.Equal(2, batch.Counts.Accepted);
        Assert.Equal("1985-04-01", Crm(test, "00001").Text("birthDate"));
        Assert.Equal("2024-03-07T00:00:00.000Z", Crm(test, "00001").Text("lastSeen"));
        Assert.Equal("2023-12-25T00:00:00.000Z", Crm(test, "00002").Text("lastSeen"));
    }

    [Fact]
    public async Task The_other_pairing_of_formats_works_too()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,born,seen\n00001,4/1/1985,20240307\n");
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?> { ["born"] = "birthDate", ["seen"] = "lastSeen" },
            Formats = new Dictionary<string, string> { ["born"] = "M/d/yyyy", ["seen"] = "yyyyMMdd" },
        };

        var batch = await test.IngestAsync("crm", path, mapping);

        Assert.Equal(1, batch.Counts.Accepted);
        Assert.Equal("1985-04-01", Crm(test, "00001").Text("birthDate"));
        Assert.Equal("2024-03-07T00:00:00.000Z", Crm(test, "00001").Text("lastSeen"));
    }

    [Fact]
    public async Task A_value_not_in_its_column_format_is_a_format_error_on_its_field()
    {
        await using var test = await CrmAsync();
        var rows = string.Join('\n', ["crmId,born", .. Enumerable.Range(1, 30).Select(i => $"{i:D5},19850401"), "00099,13/45/1985"]);
        var path = test.WriteFile("crm.csv", rows);
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?> { ["born"] = "birthDate" },
            Formats = new Dictionary<string, string> { ["born"] = "yyyyMMdd" },
        };

        var batch = await test.IngestAsync("crm", path, mapping);

        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal(("birthDate", ErrorCodes.FormatInvalid), (entry.Errors[0].Path, entry.Errors[0].Code));
        Assert.Contains("13/45/1985", entry.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zero_padded_ids_stay_strings_in_keys_records_and_identities()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,firstName\n00001,A\n0001,B\n1,C\n");

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(3, batch.Counts.Accepted);
        Assert.Equal("A", Crm(test, "00001").Text("firstName"));
        Assert.Equal("B", Crm(test, "0001").Text("firstName"));
        Assert.Equal("C", Crm(test, "1").Text("firstName"));
        Assert.Equal(["00001", "0001", "1"], test.Facts().Select(f => f.Identity).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Quoted_fields_keep_delimiters_quotes_and_newlines()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,address,firstName\n\"00001\",\"1, Main St\",\"An \"\"A\"\"\"\n00002,\"two\nlines\",Bob\n");
        var mapping = new MappingSpec { Fields = new Dictionary<string, string?> { ["address"] = "address.street" } };

        var batch = await test.IngestAsync("crm", path, mapping);

        Assert.Equal(2, batch.Counts.Accepted);
        Assert.Equal("1, Main St", Crm(test, "00001").Text("address.street"));
        Assert.Equal("An \"A\"", Crm(test, "00001").Text("firstName"));
        Assert.Equal("two\nlines", Crm(test, "00002").Text("address.street"));
    }

    [Fact]
    public async Task A_row_with_the_wrong_number_of_columns_is_a_parse_error()
    {
        await using var test = await CrmAsync();
        var rows = string.Join('\n', ["crmId,firstName,age", .. Enumerable.Range(1, 30).Select(i => $"{i:D5},N{i},{i}"), "00099,Extra,5,surplus"]);
        var path = test.WriteFile("crm.csv", rows);

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(BatchStatus.Success, batch.Status);
        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal(ErrorCodes.ParseError, entry.Errors[0].Code);
        Assert.Equal(31, entry.Row);
        Assert.Contains("surplus", entry.Raw, StringComparison.Ordinal); // the whole row is kept
        Assert.Empty(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00099"));
    }

    [Fact]
    public async Task Gzip_compressed_csv_is_read_transparently()
    {
        await using var test = await CrmAsync();
        var path = test.WriteGzipFile("crm.csv.gz", "crmId,firstName\n00001,Ann\n00002,Bob\n");

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal("csv", batch.Format);
        Assert.Equal(2, batch.Counts.Accepted);
        Assert.Equal("Bob", Crm(test, "00002").Text("firstName"));
    }

    [Fact]
    public async Task Csv_events_get_stable_generated_ids_and_their_timestamp_from_a_column()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        var path = test.WriteFile("orders.csv", "customer,date,qty,amount\n00001,19970101,1,11.77\n00001,19970101,1,11.77\n00002,19970112,5,77.00\n");
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?> { ["customer"] = "customerId", ["date"] = "timestamp", ["qty"] = "quantity" },
            Formats = new Dictionary<string, string> { ["date"] = "yyyyMMdd" },
        };

        var batch = await test.IngestAsync("orders", path, mapping);

        Assert.Equal((3L, 0L), (batch.Counts.Accepted, batch.Counts.Duplicates));
        var first = test.FactsOf(FactKeys.EventTag, "prod", "CRMID", "00001");
        Assert.Equal(2, first.Count); // two identical rows are two purchases
        Assert.All(first, f => Assert.Equal("1997-01-01T00:00:00.000Z", f.Text("timestamp")));
        Assert.All(first, f => Assert.Equal(f.EventId, f.Text("_id")));
        var again = await test.IngestAsync("orders", path, mapping);
        Assert.Equal(3, again.Counts.Duplicates);
        Assert.Equal(3, test.Facts().Count);
    }
}
