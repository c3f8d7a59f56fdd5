using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tessera.Cli.Demo;

/// <summary>
/// The demo's stand-in for the outside world (an ad platform's API and a webhook endpoint), since the
/// demo runs without network: a Kestrel endpoint on 127.0.0.1 that answers 200 and writes every
/// request it gets to a file, so what a platform would have received can be read afterwards.
/// </summary>
internal sealed class DemoReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _folder;
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);
    private int _number;

    private DemoReceiver(WebApplication app, string folder)
    {
        _app = app;
        _folder = folder;
    }

    /// <summary>The base address; a destination's endpoint is this plus its own first path segment.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Where the received requests are written, one file each.</summary>
    public string Folder => _folder;

    /// <summary>Requests received per first path segment (<c>meta</c>, <c>webhook</c>).</summary>
    public IReadOnlyDictionary<string, int> Requests => _requests;

    public static async Task<DemoReceiver> StartAsync(string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new DemoReceiver(app, folder);
        app.Run(receiver.HandleAsync);
        await app.StartAsync(cancellationToken);
        receiver.Address = new Uri(app.Urls.First());
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var target = path.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "root";
        var number = Interlocked.Increment(ref _number);
        var file = Path.Combine(_folder, $"{number.ToString("D5", CultureInfo.InvariantCulture)}-{target}-{context.Request.Method.ToLowerInvariant()}.json");
        await using (var output = File.Create(file))
        {
            await context.Request.Body.CopyToAsync(output, context.RequestAborted);
        }
        _requests.AddOrUpdate(target, 1, static (_, n) => n + 1);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{}", context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
