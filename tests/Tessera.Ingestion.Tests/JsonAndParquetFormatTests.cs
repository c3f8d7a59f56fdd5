using Parquet.Serialization;
using Tessera.Abstractions;
using Tessera.Ingestion.Mapping;

namespace Tessera.Ingestion.Tests;

public sealed class JsonAndParquetFormatTests
{
    private static async Task<TestWorkspace> CrmAsync()
    {
        var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        return test;
    }

    [Fact]
    public async Task Json_lines_skip_blank_lines_and_quarantine_a_malformed_line_alone()
    {
        await using var test = await CrmAsync();
        var lines = new List<string>();
        for (var i = 1; i <= 30; i++)
        {
            lines.Add($$$"""{"crmId":"{{{i:D5}}}","age":{{{i}}},"address":{"city":"C{{{i}}}"},"tags":["a","b"],"attributes":{"x":1}}""");
            if (i == 10)
            {
                lines.Add("");
                lines.Add("{\"crmId\": \"broken\"");
            }
        }
        var path = test.WriteFile("crm.jsonl", string.Join('\n', lines));

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal("jsonl", batch.Format);
        Assert.Equal((31L, 30L, 1L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal((11L, 12L), (entry.Row, entry.Line));
        Assert.Equal(ErrorCodes.ParseError, entry.Errors[0].Code);
        Assert.Equal("{\"crmId\": \"broken\"", entry.Raw);
        var fact = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00030"));
        Assert.Equal("C30", fact.Text("address.city"));
        Assert.Equal("[\"a\",\"b\"]", fact.Text("tags"));
    }

    [Theory]
    [InlineData("crm.ndjson")]
    [InlineData("crm.jsonl.gz")]
    public async Task Json_lines_by_other_extensions(string name)
    {
        await using var test = await CrmAsync();
        const string content = "{\"crmId\":\"00001\"}\n{\"crmId\":\"00002\"}\n";
        var path = name.EndsWith(".gz", StringComparison.Ordinal) ? test.WriteGzipFile(name, content) : test.WriteFile(name, content);

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(("jsonl", 2L), (batch.Format, batch.Counts.Accepted));
    }

    [Theory]
    [InlineData("""[{"crmId":"00001","age":1},{"crmId":"00002","age":2}]""", 2)]
    [InlineData("""{"records":[{"crmId":"00001"},{"crmId":"00002"},{"crmId":"00003"}]}""", 3)]
    [InlineData("""{"crmId":"00001","firstName":"Solo"}""", 1)]
    public async Task Json_documents_hold_an_array_a_records_array_or_one_object(string json, int expected)
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.json", json);

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal("json", batch.Format);
        Assert.Equal(expected, batch.Counts.Accepted);
        Assert.Equal(expected, test.Facts().Count);
    }

    [Fact]
    public async Task A_malformed_json_document_is_one_parse_error()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.json", "[{\"crmId\":\"00001\"},");

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(BatchStatus.Failed, batch.Status);
        Assert.Equal(ErrorCodes.ParseError, Assert.Single(test.Quarantine(batch.Id)).Errors[0].Code);
    }

    [Fact]
    public async Task Xdm_style_nested_documents_with_identityMap_under_either_key()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync("""
            {"name":"people","class":"profile","fields":{
              "person":{"type":"object","fields":{"name":{"type":"object","fields":{"firstName":{"type":"string"},"lastName":{"type":"string"}}}}},
              "homeAddress":{"type":"object","fields":{"city":{"type":"string"},"postalCode":{"type":"string"}}}}}
            """);
        var path = test.WriteFile("people.json", """
            [
              {"identityMap":{"ECID":[{"id":"E-1"}],"Email":[{"id":"ann@example.com","primary":true}]},
               "person":{"name":{"firstName":"Ann","lastName":"Lee"}},"homeAddress":{"city":"Lyon","postalCode":"69001"}},
              {"xdm:identityMap":{"CRMID":[{"xdm:id":"00042","xdm:primary":true,"xdm:authenticatedState":"authenticated"}],"ECID":[{"xdm:id":"E-2"},{"xdm:id":"E-3"}]},
               "person":{"name":{"firstName":"Bob"}}}
            ]
            """);

        var batch = await test.IngestAsync("people", path);

        Assert.Equal(2, batch.Counts.Accepted);
        var ann = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "Email", "ann@example.com"));
        Assert.Equal("Lee", ann.Text("person.name.lastName"));
        Assert.Equal([("ECID", "E-1", false), ("Email", "ann@example.com", true)], ann.Identities);
        var bob = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00042"));
        Assert.Equal([("CRMID", "00042", true), ("ECID", "E-2", false), ("ECID", "E-3", false)], bob.Identities);
        // The identityMap is kept in the stored record as it came.
        Assert.True(bob.Record.TryGetProperty("xdm:identityMap", out _));
    }

    [Fact]
    public async Task Without_a_primary_flag_the_first_identity_keys_the_record()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Web);
        var path = test.WriteFile("web.jsonl", """
            {"_id":"ev1","timestamp":"2024-05-01T10:00:00Z","page":"/","identityMap":{"ECID":[{"id":"E-9"}],"Email":[{"id":"x@y.io"}]}}
            """);

        var batch = await test.IngestAsync("web", path);

        Assert.Equal(1, batch.Counts.Accepted);
        var fact = Assert.Single(test.FactsOf(FactKeys.EventTag, "prod", "ECID", "E-9"));
        Assert.Equal("ev1", fact.EventId);
    }

    [Fact]
    public async Task The_schema_declared_primary_identity_keys_the_record_whatever_the_identityMap_says()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        // The identityMap marks its email primary, but the schema makes crmId the primary: crmId wins,
        // wherever it appears in the record, so the same person is always stored under the same key.
        var path = test.WriteFile("crm.jsonl", """
            {"identityMap":{"Email":[{"id":"a@x.com","primary":true}]},"crmId":"00001"}
            {"crmId":"00002","identityMap":{"Email":[{"id":"b@x.com","primary":true}]}}
            """);

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(2, batch.Counts.Accepted);
        var first = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00001"));
        var second = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00002"));
        Assert.Equal(2, test.Facts().Count);
        Assert.Equal([("CRMID", "00001")], first.Identities.Where(i => i.Primary).Select(i => (i.Namespace, i.Id)));
        Assert.Equal([("CRMID", "00002")], second.Identities.Where(i => i.Primary).Select(i => (i.Namespace, i.Id)));
    }

    [Fact]
    public async Task Xdm_event_documents_use_at_id_and_xdm_timestamp_as_the_event_id_and_time()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync("""{"name":"xdm-events","class":"event","unknownFields":"drop","fields":{}}""");
        var path = test.WriteFile("events.json", """
            [{"@id":"https://data.adobe.io/experienceid-1","xdm:timestamp":"2017-09-26T15:52:25+00:00",
              "xdm:identityMap":{"ECID":[{"xdm:id":"92312748749128"}]}}]
            """);

        var batch = await test.IngestAsync("xdm-events", path);

        Assert.Equal(1, batch.Counts.Accepted);
        var fact = Assert.Single(test.FactsOf(FactKeys.EventTag, "prod", "ECID", "92312748749128"));
        Assert.Equal("https://data.adobe.io/experienceid-1", fact.EventId);
        Assert.Equal("2017-09-26T15:52:25.000Z", fact.Text("timestamp"));
    }

    public sealed class ParquetRow
    {
        public string? CrmId { get; set; }
        public int Age { get; set; }
        public double Score { get; set; }
        public long Visits { get; set; }
        public bool Vip { get; set; }
        public DateTime LastSeen { get; set; }
        public string? City { get; set; }
        public int? Zip { get; set; }
    }

    [Fact]
    public async Task Parquet_columns_keep_their_types_and_map_to_fields()
    {
        await using var test = await CrmAsync();
        var rows = Enumerable.Range(1, 40).Select(i => new ParquetRow
        {
            CrmId = $"{i:D5}",
            Age = 20 + i,
            Score = i / 4.0,
            Visits = 10_000_000_000L + i,
            Vip = i % 2 == 0,
            LastSeen = new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc).AddHours(i),
            City = i % 5 == 0 ? null : $"City{i}",
        }).ToList();
        rows.Add(new ParquetRow { CrmId = "00099", Age = 200, LastSeen = DateTime.UnixEpoch });
        var path = Path.Combine(test.Directory, "crm.parquet");
        await using (var file = File.Create(path))
        {
            await ParquetSerializer.SerializeAsync(rows, file, new Parquet.ParquetOptions { RowGroupSize = 16 });
        }
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?>
            {
                ["CrmId"] = "crmId",
                ["Age"] = "age",
                ["Score"] = "score",
                ["Visits"] = "visits",
                ["Vip"] = "vip",
                ["LastSeen"] = "lastSeen",
                ["City"] = "address.city",
                ["Zip"] = null,
            },
        };

        var batch = await test.IngestAsync("crm", path, mapping);

        Assert.Equal("parquet", batch.Format);
        Assert.Equal((41L, 40L, 1L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        var fact = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00007"));
        Assert.Equal(27, fact.Record.GetProperty("age").GetInt32());
        Assert.Equal(1.75, fact.Record.GetProperty("score").GetDouble());
        Assert.Equal(10_000_000_007L, fact.Record.GetProperty("visits").GetInt64());
        Assert.False(fact.Record.GetProperty("vip").GetBoolean());
        Assert.Equal("2024-05-01T17:00:00.000Z", fact.Text("lastSeen"));
        Assert.Equal("City7", fact.Text("address.city"));
        Assert.Null(Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00010")).Text("address.city"));
        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal((41L, "age", ErrorCodes.AboveMaximum), (entry.Row, entry.Errors[0].Path, entry.Errors[0].Code));
    }

    [Fact]
    public async Task A_parquet_double_json_cannot_hold_is_quarantined_as_a_type_mismatch()
    {
        await using var test = await CrmAsync();
        var rows = Enumerable.Range(1, 40).Select(i => new ParquetRow { CrmId = $"{i:D5}", Age = 30, Score = i, LastSeen = DateTime.UnixEpoch }).ToList();
        rows.Add(new ParquetRow { CrmId = "00099", Age = 30, Score = double.PositiveInfinity, LastSeen = DateTime.UnixEpoch });
        var path = Path.Combine(test.Directory, "crm.parquet");
        await using (var file = File.Create(path))
        {
            await ParquetSerializer.SerializeAsync(rows, file);
        }
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?> { ["CrmId"] = "crmId", ["Age"] = "age", ["Score"] = "score", ["LastSeen"] = "lastSeen" },
            Ignore = ["Visits", "Vip", "City", "Zip"],
        };

        var batch = await test.IngestAsync("crm", path, mapping);

        Assert.Equal((41L, 40L, 1L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal(("score", ErrorCodes.TypeMismatch), (entry.Errors[0].Path, entry.Errors[0].Code));
    }

    [Fact]
    public async Task A_parquet_row_group_over_the_limit_fails_the_batch_before_any_row_is_read()
    {
        var rows = Enumerable.Range(1, 40).Select(i => new ParquetRow { CrmId = $"{i:D5}", Age = 30, City = i > 32 ? new string('x', 200) : "C" }).ToList();
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?> { ["CrmId"] = "crmId", ["Age"] = "age", ["City"] = "address.street" },
            Ignore = ["Score", "Visits", "Vip", "LastSeen", "Zip"],
        };
        await using var sizing = await CrmAsync();
        var path = Path.Combine(sizing.Directory, "crm.parquet");
        await using (var file = File.Create(path))
        {
            await ParquetSerializer.SerializeAsync(rows, file, new Parquet.ParquetOptions { RowGroupSize = 16 });
        }
        long[] sizes;
        await using (var file = File.OpenRead(path))
        await using (var reader = await Parquet.ParquetReader.CreateAsync(file))
        {
            sizes = [.. reader.Metadata!.RowGroups.Select(g => g.TotalByteSize)];
        }
        Assert.Equal(3, sizes.Length);
        Assert.Equal(2, Array.IndexOf(sizes, sizes.Max())); // the last group, of long cities, is the largest

        await using var over = await TestWorkspace.CreateAsync($$$"""{"limits": {"maxParquetRowGroupBytes": {{{sizes[2] - 1}}}}}""");
        await over.DefineAsync(Schemas.Crm);
        var error = await Assert.ThrowsAsync<CatalogException>(() => over.IngestAsync("crm", path, mapping));

        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.StartsWith($"file 'crm.parquet' cannot be read as parquet: row group 3 of 3 holds 8 rows in {sizes[2]} bytes uncompressed, more than "
            + $"the limit of {sizes[2] - 1} (limits.maxParquetRowGroupBytes): a row group is read into memory whole", error.Message, StringComparison.Ordinal);
        var failed = Assert.Single(over.Catalog.ListBatches("prod"));
        Assert.Equal((BatchStatus.Failed, 0L), (failed.Status, failed.Counts.Input));
        Assert.Empty(over.Facts());

        // At the limit exactly, the file is read.
        await using var at = await TestWorkspace.CreateAsync($$$"""{"limits": {"maxParquetRowGroupBytes": {{{sizes[2]}}}}}""");
        await at.DefineAsync(Schemas.Crm);
        var batch = await at.IngestAsync("crm", path, mapping);
        Assert.Equal((BatchStatus.Success, 40L, 40L), (batch.Status, batch.Counts.Input, batch.Counts.Accepted));
        Assert.Equal(256L * 1024 * 1024, sizing.Ingestion.Limits.MaxParquetRowGroupBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task A_parquet_row_group_limit_below_one_byte_is_a_config_error(long limit)
    {
        var error = await Assert.ThrowsAsync<CatalogException>(() => TestWorkspace.CreateAsync($$$"""{"limits": {"maxParquetRowGroupBytes": {{{limit}}}}}"""));

        Assert.Equal("CONFIG_INVALID", error.Code);
        Assert.Contains("limits.maxParquetRowGroupBytes must be at least 1 byte", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_extension_needs_a_format()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.dat", "crmId\n00001\n");

        Assert.Equal(ErrorCodes.MappingError, (await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", path))).Code);
        var batch = await test.IngestAsync("crm", path, new MappingSpec { Format = "csv" });
        Assert.Equal(1, batch.Counts.Accepted);
    }

    [Fact]
    public async Task A_missing_file_or_dataset_is_refused_before_a_batch_starts()
    {
        await using var test = await CrmAsync();
        Assert.Equal("FILE_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", Path.Combine(test.Directory, "nope.csv")))).Code);
        Assert.Equal("DATASET_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("nope", test.WriteFile("a.csv", "crmId\n1\n")))).Code);
        Assert.Empty(test.Catalog.ListBatches("prod"));
    }
}
