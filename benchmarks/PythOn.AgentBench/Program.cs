// Measures print(1) through a running agent (sequential runs on an idle agent) and the same program with the bare
// interpreter on this host, then prints percentiles and the agent's timing breakdown; then the agent's throughput at
// concurrency 4 per language with the machine's CPU per run.
//   PythOn.AgentBench SOCKET [RUNS] [NODE] [LANGUAGE]
//     NODE: the sandbox's node binary (copied out of the runtime image); LANGUAGE: only that language's cases (for a
//     profile of one language's runs, e.g. under `perf record -a`)
using System.Diagnostics;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using PythOn.Sandbox.V1;

var socketPath = args.Length > 0 ? args[0] : "/run/pyth-on/agent.sock";
var runs = args.Length > 1 ? int.Parse(args[1]) : 30;
var node = args.Length > 2 ? args[2] : "node";
var onlyLanguage = args.Length > 3 ? args[3] : null;

using var channel = GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions
{
    HttpHandler = new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await s.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
            return new NetworkStream(s, ownsSocket: true);
        },
    },
});
var client = new SandboxAgent.SandboxAgentClient(channel);

foreach (var (language, code, bare) in new[]
{
    ("python", "print(1)", new[] { "/usr/bin/python3", "-c", "print(1)" }), // the system interpreter, as the sandbox has it (not a PATH shim)
    ("javascript", "console.log(1)", new[] { node, "-e", "console.log(1)" }),
}.Where(c => onlyLanguage is null || c.Item1 == onlyLanguage))
{
    await WaitForPoolAsync(language);
    await RunOnceAsync(language, code); // warm-up (JIT, connection)
    var total = new List<double>();
    var acquire = new List<double>();
    var first = new List<double>();
    var program = new List<double>();
    var cold = 0;
    for (var i = 0; i < runs; i++)
    {
        await WaitForPoolAsync(language); // measure the warm path, as a steady trickle of requests sees it
        var clock = Stopwatch.StartNew();
        var result = await RunOnceAsync(language, code);
        total.Add(clock.Elapsed.TotalMilliseconds);
        acquire.Add(result.Timings.AcquireUs / 1000.0);
        first.Add(result.Timings.FirstOutputUs / 1000.0);
        program.Add(result.Timings.ProgramUs / 1000.0);
        if (!result.Warm)
            cold++;
    }
    var bareTimes = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var clock = Stopwatch.StartNew();
        var psi = new ProcessStartInfo(bare[0]) { RedirectStandardOutput = true };
        psi.Environment.Clear(); // a clean environment: an inherited NODE_EXTRA_CA_CERTS triples node's start
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        foreach (var a in bare[1..])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        bareTimes.Add(clock.Elapsed.TotalMilliseconds);
    }
    Console.WriteLine($"{language}: {runs} runs ({cold} cold)");
    Console.WriteLine($"  through agent  {Stats(total)}");
    Console.WriteLine($"    acquire      {Stats(acquire)}");
    Console.WriteLine($"    first output {Stats(first)}   (job sent -> first output byte)");
    Console.WriteLine($"    program      {Stats(program)}   (job sent -> supervisor's exit frame)");
    Console.WriteLine($"  bare {bare[0],-9} {Stats(bareTimes)}");
}

foreach (var (language, code) in new[] { ("python", "print(1)"), ("javascript", "console.log(1)") }
    .Where(c => onlyLanguage is null || c.Item1 == onlyLanguage))
{
    const int concurrency = 4;
    // Enough runs that the window spans several seconds: the machine CPU per run of a shorter one moved with a
    // single slot's replacement or a moment of the machine's noise.
    var total = runs * 20;
    // The same number of untimed runs first: this client's concurrent path is new code for its tiered JIT, whose
    // compilations would otherwise land in the machine CPU measured for the agent.
    await RunConcurrentlyAsync(language, code, concurrency, total);
    await WaitForPoolAsync(language);
    var cpu = CpuClock.BusySeconds();
    var clock = Stopwatch.StartNew();
    await RunConcurrentlyAsync(language, code, concurrency, total);
    var perSecond = total / clock.Elapsed.TotalSeconds;
    await WaitForPoolAsync(language);
    Console.WriteLine($"{language}: agent alone at concurrency {concurrency}: {perSecond:F1} runs/s ({total} runs; machine CPU {(CpuClock.BusySeconds() - cpu) * 1000 / total:F1} ms per run)");
}

async Task RunConcurrentlyAsync(string language, string code, int concurrency, int total)
{
    var next = 0;
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (Interlocked.Increment(ref next) <= total) await RunOnceAsync(language, code);
    }));
}

async Task<RunResult> RunOnceAsync(string language, string code)
{
    using var call = client.Run(new RunRequest { Language = language, Code = code });
    RunResult? result = null;
    await foreach (var e in call.ResponseStream.ReadAllAsync())
        if (e.EventCase == RunEvent.EventOneofCase.Result)
            result = e.Result;
    return result ?? throw new InvalidOperationException("no result");
}

async Task WaitForPoolAsync(string language)
{
    var deadline = DateTime.UtcNow.AddSeconds(30);
    while (DateTime.UtcNow < deadline)
    {
        // Idle: the pool full (runners waiting) and the previous run's sandbox removed, so nothing competes.
        var s = await client.GetStatusAsync(new GetStatusRequest());
        if (s.PoolReady[language] >= Math.Max(1, s.PoolTarget[language])
            && s.PoolStarting.Values.Sum() == 0 && s.SandboxesRemoving == 0 && s.ActiveRuns == 0)
            return;
        await Task.Delay(20);
    }
    throw new TimeoutException($"the agent did not become idle with a full {language} pool");
}

static string Stats(List<double> xs)
{
    var s = xs.Order().ToArray();
    double P(double q) => s[Math.Min(s.Length - 1, (int)(q * s.Length))];
    return $"p50 {P(0.5),6:0.0} ms  p90 {P(0.9),6:0.0} ms  min {s[0],6:0.0} ms";
}
