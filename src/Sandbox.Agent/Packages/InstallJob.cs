using System.Threading.Channels;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Packages;

/// <summary>One running install: its output so far, its subscribers, and its result.</summary>
internal sealed class InstallJob
{
    private readonly List<string> _lines = [];
    private readonly List<ChannelWriter<InstallEvent>> _subscribers = [];
    private InstallResult? _result;

    public void Subscribe(ChannelWriter<InstallEvent> writer)
    {
        lock (_lines)
        {
            foreach (var line in _lines)
                writer.TryWrite(new InstallEvent { Progress = new InstallProgress { Line = line } });
            if (_result is not null)
            {
                writer.TryWrite(new InstallEvent { Result = _result });
                writer.TryComplete();
                return;
            }
            _subscribers.Add(writer);
        }
    }

    public void Progress(string line)
    {
        lock (_lines)
        {
            if (_lines.Count < 5000)
                _lines.Add(line);
            foreach (var s in _subscribers)
                s.TryWrite(new InstallEvent { Progress = new InstallProgress { Line = line } });
        }
    }

    public void Complete(InstallResult result)
    {
        lock (_lines)
        {
            _result = result;
            foreach (var s in _subscribers)
            {
                s.TryWrite(new InstallEvent { Result = result });
                s.TryComplete();
            }
            _subscribers.Clear();
        }
    }
}
