using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Tessera.Activation.Files;

/// <summary>
/// Runs the record source on a thread-pool thread, handing records to the writer in batches through
/// a bounded channel: memory stays bounded (a few batches), and the source's work (membership reads,
/// mapping, hashing) overlaps the writer's (formatting, compressing, encoding).
/// </summary>
internal static class RecordReadAhead
{
    public const int BatchRecords = 1024;
    public const int Batches = 4;

    /// <summary>
    /// Feeds every record <paramref name="produce"/> writes to <paramref name="accept"/>, in order.
    /// A failure of the source is rethrown here as it was thrown; a failure of the writer stops the source.
    /// </summary>
    public static async Task FeedAsync(
        Func<ChannelWriter<ArraySegment<DeliveryRecord>>, CancellationToken, Task> produce,
        Func<DeliveryRecord, CancellationToken, ValueTask> accept,
        CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<ArraySegment<DeliveryRecord>>(new BoundedChannelOptions(Batches)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ExceptionDispatchInfo? failure = null;
        var producer = Task.Run(async () =>
        {
            try
            {
                await produce(channel.Writer, stop.Token).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                failure = ExceptionDispatchInfo.Capture(error);
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        }, CancellationToken.None);
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var batch))
                {
                    foreach (var record in batch)
                    {
                        await accept(record, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        finally
        {
            // Stops a source still running (the writer failed or was cancelled) and waits for it, so that nothing outlives the run.
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
        }
        failure?.Throw();
    }

    public static async Task ProduceAsync(IEnumerable<DeliveryRecord> records, ChannelWriter<ArraySegment<DeliveryRecord>> writer, CancellationToken cancellationToken)
    {
        var batch = new DeliveryRecord[BatchRecords];
        var count = 0;
        foreach (var record in records)
        {
            batch[count++] = record;
            if (count == batch.Length)
            {
                await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                batch = new DeliveryRecord[BatchRecords];
                count = 0;
            }
        }
        if (count > 0)
        {
            await writer.WriteAsync(new ArraySegment<DeliveryRecord>(batch, 0, count), cancellationToken).ConfigureAwait(false);
        }
    }

    public static async Task ProduceAsync(IAsyncEnumerable<DeliveryRecord> records, ChannelWriter<ArraySegment<DeliveryRecord>> writer, CancellationToken cancellationToken)
    {
        var batch = new DeliveryRecord[BatchRecords];
        var count = 0;
        await foreach (var record in records.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            batch[count++] = record;
            if (count == batch.Length)
            {
                await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                batch = new DeliveryRecord[BatchRecords];
                count = 0;
            }
        }
        if (count > 0)
        {
            await writer.WriteAsync(new ArraySegment<DeliveryRecord>(batch, 0, count), cancellationToken).ConfigureAwait(false);
        }
    }
}
