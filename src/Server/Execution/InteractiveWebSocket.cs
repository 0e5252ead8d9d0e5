using System.Buffers;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using LiteDB;
using PythOn.Api.V1;
using PythOn.Server.Auth;
using PythOn.Server.Errors;

namespace PythOn.Server.Execution;

/// <summary>
/// Interactive runs over a WebSocket on the REST port (JSON transcoding cannot carry a bidirectional stream):
/// <c>GET /api/v1/execute/interactive</c> upgraded to a WebSocket, authenticated like every call (x-api-key or a
/// Bearer JWT), or with <c>?ticket=</c> from <c>POST /api/v1/execute/interactive/tickets</c> for browsers, which
/// cannot set headers (single use, 60 s; kept by <see cref="IInteractiveTickets"/>, so any replica redeems it).
/// Each text message is one JSON object: the client sends Interact's InteractRequest messages ({"start":{...}},
/// {"stdin":"..."}, {"stdinClose":true}, {"signal":"SIGNAL_INTERRUPT"}), the server sends ExecuteStreamEvent messages
/// ({"chunk":{...}}, then one {"result":{...}}) and closes; an error is one {"error":{"code":N,"message":"..."}}
/// (google.rpc.Status) before the close.
/// </summary>
public static class InteractiveWebSocket
{
    public const string Path = "/api/v1/execute/interactive";
    public const string TicketsPath = "/api/v1/execute/interactive/tickets";
    /// <summary>Largest client message; longer stdin goes in several messages.</summary>
    public const int MaxMessageBytes = 1 << 20;
    private static readonly TimeSpan TicketLifetime = TimeSpan.FromSeconds(60);
    /// <summary>Longest ticket accepted: the ones issued are 48 characters; a longer one is not hashed or looked up.</summary>
    private const int MaxTicketLength = 128;
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));
    // Default values written out, like the REST API's JSON (exitCode 0 is a value, not an absence).
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    public static IEndpointRouteBuilder MapInteractiveWebSocket(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(TicketsPath, (HttpContext http, IInteractiveTickets tickets) =>
        {
            var expires = DateTimeOffset.UtcNow + TicketLifetime;
            var ticket = tickets.Issue(CallerOf(http)!, expires);
            return Results.Json(new { ticket, expiresAt = expires });
        }).RequireAuthorization();

        endpoints.Map(Path, HandleAsync).AllowAnonymous(); // authenticated below: credentials or a ticket
        return endpoints;
    }

    private static Caller? CallerOf(HttpContext http)
    {
        var user = http.User;
        if (user.Identity?.IsAuthenticated != true || user.FindFirstValue(CallerClaims.UserId) is not { } id) return null;
        return new Caller(new ObjectId(id), user.FindFirstValue(CallerClaims.Email) ?? "", user.FindFirstValue(CallerClaims.AuthMethod) ?? "",
            http.ClientAddress());
    }

    private static async Task HandleAsync(HttpContext http, InteractiveSession session, IInteractiveTickets tickets, ILoggerFactory logs)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await ErrorResponses.WriteAsync(http, StatusCode.InvalidArgument, $"{Path} is a WebSocket endpoint: connect with a WebSocket upgrade.");
            return;
        }
        var caller = CallerOf(http);
        if (caller is null && http.Request.Query["ticket"].ToString() is { Length: > 0 and <= MaxTicketLength } ticket
            && ticket.StartsWith(OpaqueTokens.TicketPrefix, StringComparison.Ordinal) && tickets.Redeem(ticket) is { } holder)
            caller = holder with { ClientAddress = http.ClientAddress() };
        if (caller is null)
        {
            await ErrorResponses.WriteAsync(http, StatusCode.Unauthenticated,
                AuthenticationSetup.MissingCredentialsMessage + $" Browsers: get a ticket with POST {TicketsPath} and connect with ?ticket=.");
            return;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var ct = http.RequestAborted;
        var sendLock = new SemaphoreSlim(1, 1);
        async Task SendAsync(IMessage message)
        {
            var bytes = Encoding.UTF8.GetBytes(Formatter.Format(message));
            await sendLock.WaitAsync(ct);
            try
            {
                await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct);
            }
            finally
            {
                sendLock.Release();
            }
        }

        // One receive loop for the whole connection: cancelling a pending WebSocket receive aborts the socket, so the
        // run takes messages from a channel instead. Capacity 1: the next message is read only when the run has taken
        // the last, so a program that stops reading pushes back on the client through TCP.
        var inbox = System.Threading.Channels.Channel.CreateBounded<InteractRequest>(1);
        Task? receiver = null;
        try
        {
            var first = await ReceiveAsync(socket, ct)
                ?? throw Problems.Invalid("the socket closed before its first message, {\"start\":{...}}.");
            receiver = Task.Run(async () =>
            {
                try
                {
                    while (await ReceiveAsync(socket, ct) is { } message)
                        await inbox.Writer.WriteAsync(message, ct);
                    inbox.Writer.TryComplete();
                }
                catch (Exception e)
                {
                    inbox.Writer.TryComplete(e);
                }
            }, CancellationToken.None);
            async Task<InteractRequest?> NextAsync(CancellationToken token)
            {
                try
                {
                    return await inbox.Reader.ReadAsync(token);
                }
                catch (System.Threading.Channels.ChannelClosedException)
                {
                    return null;
                }
            }
            await session.RunAsync(caller, first, NextAsync, SendAsync, ct);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "run ended", CancellationToken.None);
        }
        catch (RpcException e) when (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            var error = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { error = new { code = (int)e.StatusCode, message = e.Status.Detail } }));
            await socket.SendAsync(error, WebSocketMessageType.Text, true, CancellationToken.None);
            await socket.CloseOutputAsync(e.StatusCode == StatusCode.InvalidArgument ? WebSocketCloseStatus.InvalidPayloadData : WebSocketCloseStatus.PolicyViolation,
                e.StatusCode.ToString(), CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The client went away: cancelling the request killed the run.
        }
        catch (Exception e) when (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            logs.CreateLogger(typeof(InteractiveWebSocket)).LogError(e, "Interactive WebSocket run failed");
            var error = Encoding.UTF8.GetBytes("""{"error":{"code":13,"message":"internal error"}}""");
            await socket.SendAsync(error, WebSocketMessageType.Text, true, CancellationToken.None);
            await socket.CloseOutputAsync(WebSocketCloseStatus.InternalServerError, "internal error", CancellationToken.None);
        }
        finally
        {
            // Wait (briefly) for the client's close reply, which ends the receive loop.
            if (receiver is not null) await Task.WhenAny(receiver, Task.Delay(TimeSpan.FromSeconds(5)));
        }
    }

    /// <summary>The next client message, or null when the client closed its side.</summary>
    private static async Task<InteractRequest?> ReceiveAsync(WebSocket socket, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, ct);
                if (result.MessageType == WebSocketMessageType.Close) return null;
                if (result.MessageType != WebSocketMessageType.Text)
                    throw Problems.Invalid("send text messages (JSON), not binary ones.");
                message.Write(buffer, 0, result.Count);
                if (message.Length > MaxMessageBytes)
                    throw Problems.Invalid($"a message may be at most {MaxMessageBytes} bytes; send long stdin in several.");
                if (result.EndOfMessage) break;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        try
        {
            return Parser.Parse<InteractRequest>(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Problems.Invalid($"not an interactive message ({e.Message}): send {{\"start\":{{...}}}}, {{\"stdin\":\"...\"}}, {{\"stdinClose\":true}} or {{\"signal\":\"SIGNAL_INTERRUPT\"}}.");
        }
    }
}
