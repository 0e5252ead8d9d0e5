// Health probe for the containers: exit 0 when the target is healthy, 1 (with the reason on stderr) when not.
//   PythOn.HealthProbe http://127.0.0.1:8080/health/live           HTTP GET; healthy on a 2xx status
//   PythOn.HealthProbe grpc unix:/run/pyth-on/agent.sock [SERVICE]  grpc.health.v1.Health/Check; healthy on SERVING
//   PythOn.HealthProbe grpc http://127.0.0.1:8081 [SERVICE]
//   ... --answers                                                   liveness: any health status; only no answer fails
using PythOn.HealthProbe;

return await Probe.RunAsync(args, TimeSpan.FromSeconds(5));
