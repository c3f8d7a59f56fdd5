using Microsoft.AspNetCore.Http.Json;
using Tessera.Server.Api;

namespace Tessera.Server;

/// <summary>
/// The Tessera HTTP API on Kestrel. <see cref="Build"/> gives a ready <see cref="WebApplication"/>;
/// run it with <c>RunAsync()</c> or <c>StartAsync()</c>. Starting it first finishes interrupted
/// batches (<see cref="Tessera.Ingestion.IngestionService.RecoverAsync"/>), then listens.
/// </summary>
public static class TesseraServer
{
    /// <summary>CORS policy of the collection and Segment endpoints (browsers send events from any origin).</summary>
    public const string CollectCorsPolicy = "collect";

    /// <summary>
    /// Builds the server over an open <paramref name="workspace"/> (which the caller keeps and
    /// disposes after the server stopped). It binds to <paramref name="urls"/> only (for example
    /// <c>http://127.0.0.1:0</c> for a free port, read back from <c>app.Urls</c> once started) and
    /// ignores appsettings files and <c>ASPNETCORE_*</c> variables. <paramref name="time"/> is the
    /// clock of request handling (Segment's <c>receivedAt</c>); it defaults to the catalog's.
    /// <paramref name="configure"/> may adjust the builder (logging, extra services) before it is built.
    /// </summary>
    public static WebApplication Build(Workspace workspace, string[] urls, TimeProvider? time = null, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(urls);
        if (urls.Length == 0)
        {
            throw new ArgumentException("at least one URL to listen on is needed", nameof(urls));
        }
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = workspace.Directory });
        builder.Configuration.Sources.Clear();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = workspace.Config.Limits.MaxRequestBodyBytes;
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var services = builder.Services;
        services.AddSingleton(workspace);
        // Kept out of the container as TimeProvider so that the framework's own timers stay on the real clock.
        services.AddSingleton(new RequestClock(time ?? workspace.Catalog.Time));
        services.AddHostedService<RecoveryService>();
        services.AddHostedService<ProfileMaintenanceService>();
        services.AddSingleton<SegmentationScheduleService>();
        services.AddHostedService(provider => provider.GetRequiredService<SegmentationScheduleService>());
        services.AddHostedService<ActivationDeliveryService>();
        workspace.StartStreaming();
        services.Configure<JsonOptions>(options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJson.Default);
            options.SerializerOptions.TypeInfoResolverChain.Insert(1, Tessera.Activation.ActivationJson.Default);
            options.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        services.AddCors(cors => cors.AddPolicy(CollectCorsPolicy, policy => policy
            .AllowAnyOrigin()
            .WithMethods("POST")
            .AllowAnyHeader()));
        // Senders may gzip their bodies (Content-Encoding: gzip, deflate or br); the size limit
        // applies to the decompressed body too. A gzip body is checked to its end: one cut short
        // (an interrupted upload) or damaged is refused rather than read as a shorter body.
        services.AddRequestDecompression(options => options.DecompressionProviders["gzip"] = new CheckedGzipDecompression());
        services.AddOpenApi(OpenApiSetup.Configure);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.Urls.Clear();
        foreach (var url in urls)
        {
            app.Urls.Add(url);
        }
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseRequestDecompression();
        app.UseRouting();
        app.UseCors();
        app.UseMiddleware<ApiKeyMiddleware>();

        app.MapGet("/health", () => TypedResults.Json(new HealthResponse("ok"), ServerJson.Default.HealthResponse))
            .RequireAccess(ApiAccess.Anonymous)
            .WithName("Health")
            .WithSummary("Readiness: answers once the server listens, which is after interrupted batches were recovered.")
            .WithTags("Health");
        app.MapOpenApi().RequireAccess(ApiAccess.Collect);
        CollectionEndpoints.Map(app);
        SegmentEndpoints.Map(app);
        BatchEndpoints.Map(app);
        CatalogEndpoints.Map(app);
        IdentityEndpoints.Map(app);
        MergePolicyEndpoints.Map(app);
        AudienceEndpoints.Map(app);
        SegmentationEndpoints.Map(app);
        ProfileEndpoints.Map(app);
        PrivacyEndpoints.Map(app);
        ActivationEndpoints.Map(app);
        return app;
    }
}

/// <summary>The clock request handlers read (Segment's <c>receivedAt</c>).</summary>
internal sealed record RequestClock(TimeProvider Time);

/// <summary>
/// <c>Content-Encoding: gzip</c> request bodies through <see cref="Tessera.Ingestion.Sources.CheckedGzipStream"/>: a body whose
///gzip data is cut short or damaged is 400 <c>BODY_INVALID</c> saying so, where the framework's decompression would have read
/// a cut-short body as a complete, shorter one.
/// </summary>
internal sealed class CheckedGzipDecompression : Microsoft.AspNetCore.RequestDecompression.IDecompressionProvider
{
    public Stream GetDecompressionStream(Stream stream) =>
        new Tessera.Ingestion.Sources.CheckedGzipStream(stream, leaveOpen: true, why => Api.ApiException.BadRequest(Api.ApiErrorCodes.BodyInvalid,
            $"the request body (Content-Encoding: gzip) cannot be decompressed: {why}; the request is incomplete or damaged, send it again"));
}
