namespace PythOn.Sandbox.Agent.Runs;

/// <summary>Why a run could not start; the gRPC adapter maps it to a status code.</summary>
public enum RunRejection
{
    InvalidArgument,
    FailedPrecondition,
    ResourceExhausted,
    Unavailable,
}

public sealed class RunRejectedException(RunRejection reason, string message) : Exception(message)
{
    public RunRejection Reason { get; } = reason;
}
