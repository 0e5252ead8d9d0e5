/// <summary>The whole machine's CPU time, from /proc/stat: both benchmarks measure "machine CPU per run" with it.</summary>
static class CpuClock
{
    /// <summary>Seconds all cores spent running something since boot: user, nice, system, irq and softirq. Not idle and
    /// iowait, and not steal: time the hypervisor gave to another machine while this one wanted to run is not CPU any
    /// process here used (on this development VM it grows when both cores are busy, by up to a third).</summary>
    public static double BusySeconds()
    {
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..].Select(long.Parse).ToArray();
        return (f[0] + f[1] + f[2] + f[5] + f[6]) / 100.0; // USER_HZ
    }
}
