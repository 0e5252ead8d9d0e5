using System.Net.Sockets;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace PythOn.HealthProbe;

/// <summary>One check of one target, with a deadline; the exit code is the verdict.</summary>
public static class Probe
{
    private const string Usage = "usage: PythOn.HealthProbe http://HOST:PORT/PATH | grpc (unix:/PATH | http://HOST:PORT) [SERVICE] [--answers]";

    /// <summary>Liveness of a gRPC process: any health status counts, only no answer fails (a NOT_SERVING agent
    /// whose Docker is away is alive; restarting it would not bring Docker back).</summary>
    private const string AnswersFlag = "--answers";

    public static async Task<int> RunAsync(string[] args, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var answers = args.Contains(AnswersFlag);
        args = args.Where(a => a != AnswersFlag).ToArray();
        try
        {
            return args switch
            {
                ["grpc", var address] => await GrpcAsync(address, "", answers, deadline.Token),
                ["grpc", var address, var service] => await GrpcAsync(address, service, answers, deadline.Token),
                [var url] when url.StartsWith("http://", StringComparison.Ordinal) || url.StartsWith("https://", StringComparison.Ordinal)
                    => await HttpAsync(new Uri(url), deadline.Token),
                _ => Fail(Usage),
            };
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or OperationCanceledException or Grpc.Core.RpcException or UriFormatException)
        {
            return Fail(deadline.IsCancellationRequested ? $"no answer within {timeout.TotalSeconds:0} s" : e.Message);
        }
    }

    private static async Task<int> HttpAsync(Uri url, CancellationToken ct)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(url, ct);
        return response.IsSuccessStatusCode ? 0 : Fail($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
    }

    private static async Task<int> GrpcAsync(string address, string service, bool answers, CancellationToken ct)
    {
        using var channel = Channel(address);
        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = service }, cancellationToken: ct);
        return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving || answers
            ? 0
            : Fail($"{address} service '{service}' is {reply.Status}");
    }

    private static GrpcChannel Channel(string address)
    {
        if (!address.StartsWith("unix:", StringComparison.Ordinal))
            return GrpcChannel.ForAddress(address);
        var path = address["unix:".Length..];
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler });
    }

    private static int Fail(string reason)
    {
        Console.Error.WriteLine($"unhealthy: {reason}");
        return 1;
    }
}
