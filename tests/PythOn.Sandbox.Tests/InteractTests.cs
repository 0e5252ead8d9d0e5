using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

/// <summary>The agent's Interact RPC: stdin while the program runs, its cap, and signals.</summary>
[Collection(SandboxCollection.Name)]
public sealed class InteractTests(SandboxFixture fx)
{
    private static async Task<RunResult> ResultAsync(AsyncDuplexStreamingCall<InteractRequest, RunEvent> call)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await call.ResponseStream.MoveNext(deadline.Token))
            if (call.ResponseStream.Current.EventCase == RunEvent.EventOneofCase.Result)
                return call.ResponseStream.Current.Result;
        throw new InvalidOperationException("no result");
    }

    [Fact]
    public async Task Stdin_past_the_runs_cap_ends_it_with_a_clear_result()
    {
        var start = Runs.Python("import sys, time\nsys.stdin.read()\ntime.sleep(30)");
        start.MaxStdinBytes = 1000;
        using var call = fx.Client.Interact();
        await call.RequestStream.WriteAsync(new InteractRequest { Start = start });
        await call.RequestStream.WriteAsync(new InteractRequest { Stdin = Google.Protobuf.ByteString.CopyFrom(new byte[600]) });
        await call.RequestStream.WriteAsync(new InteractRequest { Stdin = Google.Protobuf.ByteString.CopyFrom(new byte[600]) });

        var result = await ResultAsync(call);

        Assert.True(result.StoppedAtStdinCap);
        Assert.Equal(137, result.ExitCode);
        Assert.False(result.TimedOut);
    }

    [Fact]
    public async Task Terminate_reaches_the_program()
    {
        using var call = fx.Client.Interact();
        await call.RequestStream.WriteAsync(new InteractRequest { Start = Runs.Python(
            "import signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *a: (print('got TERM', flush=True), sys.exit(5)))\nprint('ready', flush=True)\ntime.sleep(30)") });
        Assert.True(await call.ResponseStream.MoveNext()); // started
        Assert.True(await call.ResponseStream.MoveNext()); // "ready"
        await call.RequestStream.WriteAsync(new InteractRequest { Signal = Signal.Terminate });

        var result = await ResultAsync(call);
        Assert.Equal(5, result.ExitCode);
    }

    [Fact]
    public async Task The_first_message_must_be_start()
    {
        using var call = fx.Client.Interact();
        await call.RequestStream.WriteAsync(new InteractRequest { StdinClose = true });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }
}
