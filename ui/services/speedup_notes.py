"""What the Speed-up page's measurements say, in sentences with their numbers: why more
threads did (or did not) run the pipeline faster, and from which grid the tasks are too
small to pay for themselves. Plain functions of the measurements, tested without Streamlit.

On one thread, a run's wall time is its tasks' computing plus everything around them:
handing each task out (Dask's scheduler does that one task after another, whatever the
number of threads) and the Python between tasks. That rest, divided by the tasks, is what
each task costs besides its work; a task that computes for no longer than that keeps more
threads waiting rather than working.
"""

from __future__ import annotations

from core.pipeline.samples import LARGE_SAMPLES, SAMPLES

from .clock import duration
from .scaling import GridScaling, WorkerScaling

__all__ = ["LARGER_IMAGE", "grid_lesson", "near_one", "speedup_lesson", "task_costs"]

#: What gives each task more work: the large sample, or a large photo of one's own.
LARGER_IMAGE = (
    f'choose the sample "{SAMPLES[next(iter(LARGE_SAMPLES))]}" in the sidebar, or upload a photo a few '
    "thousand pixels a side"
)
#: A speed-up below 1 + this much per extra thread counts as hardly any.
NEAR_ONE_PER_THREAD = 0.25
#: Handing a task out costing this share of its computing, or more, is said to matter.
SCHEDULING_SHARE = 0.5
#: Tasks computing this many times as long on every thread as on one slowed each other down.
SLOWED_DOWN = 1.25


def task_costs(task_seconds: float, wall: float, tasks: int) -> tuple[float, float]:
    """Per task of a run on one thread: seconds computing, and seconds around it (the wall
    time its tasks did not compute, shared among them)."""
    return task_seconds / tasks, max(wall - task_seconds, 0.0) / tasks


def near_one(workers: WorkerScaling) -> bool:
    """Whether the most threads ran the pipeline hardly faster than one."""
    most = workers.points[-1].workers
    return most > 1 and workers.speedups[-1] < 1 + NEAR_ONE_PER_THREAD * (most - 1)


def speedup_lesson(workers: WorkerScaling) -> str:
    """Markdown: the speed-up, and why it is what it is, with the one-thread run's numbers
    and, where they slowed each other, the threads' task time."""
    one, most = workers.points[0], workers.points[-1]
    if most.workers == 1:
        return (
            "This server lets Dask use one core, so there is no second thread to share the work: "
            "the speed-up can only be measured on a server with more cores."
        )
    computing, around = task_costs(one.task_seconds, one.wall, one.tasks)
    numbers = (
        f"On 1 thread the run took {duration(one.wall)} of wall time for {one.tasks:,} tasks (the pipeline's "
        f"{one.pipeline_tasks:,} and {one.tasks - one.pipeline_tasks:,} summing its result). They computed "
        f"for {duration(one.task_seconds)} in all, **{duration(computing)} a task** on average; the other "
        f"{duration(max(one.wall - one.task_seconds, 0.0))}, **{duration(around)} a task**, went to handing "
        "them out and to Python between them."
    )
    slowed = most.task_seconds / one.task_seconds if one.task_seconds > 0 else 1.0
    reasons = []
    if around >= SCHEDULING_SHARE * computing:
        reasons.append(
            "Dask's scheduler hands tasks out one after another, whatever the number of threads: when a task "
            "computes for not much longer than it costs to hand it out, more threads mostly wait for their next task."
        )
    if slowed >= SLOWED_DOWN:
        reasons.append(
            f"On {most.workers} threads the same tasks computed for {duration(most.task_seconds)} in all, "
            f"**{slowed:.1f} times as long** as on one: side by side they slowed each other down (Python code "
            "holds the GIL, which lets one thread run it at a time, and every thread shares the memory bus), "
            f"which leaves at most {most.workers / slowed:.1f}x."
        )
    serial = workers.serial_fraction or 0.0
    cap = f"caps the speed-up at {1 / serial:.1f}x" if serial > 0 else "puts no cap on it that these runs show"
    speedup = f"{workers.speedups[-1]:.2f}x on {most.workers} threads"
    if near_one(workers):
        if not reasons:
            reasons.append(
                "What remains is the run's serial part: tasks that wait for the ones they need, stage after "
                "stage, and the summing of the result at the end."
            )
        return (
            f"**Why hardly faster ({speedup})?** {numbers} {' '.join(reasons)} The serial fraction fitted to "
            f"the wall times, {serial:.0%}, says the same: it {cap}. To see the cores help, give each task more "
            f"work: {LARGER_IMAGE}, or split it into fewer tiles (the grid sweep below shows where tasks get too "
            "small to pay)."
        )
    return (
        f"**{speedup}.** {numbers} Each task computes for longer than it costs besides, so the threads keep "
        f"busy; what does not shrink with more threads, a serial fraction of {serial:.0%}, {cap}."
        + (f" {reasons[-1]}" if slowed >= SLOWED_DOWN else "")
    )


def grid_lesson(grids: GridScaling) -> str:
    """Markdown: the fastest grid, and from which one more tiles cost more than they win."""
    points = grids.points
    fastest = min(range(len(points)), key=lambda i: points[i].wall)
    best = points[fastest]
    text = f"Fastest at **{best.rows} x {best.cols} tiles** ({duration(best.wall)} of wall time)."
    if fastest == len(points) - 1:
        computing = best.task_seconds / best.tasks
        return (
            f"{text} More tiles paid all the way: at the finest grid a task still computes for "
            f"{duration(computing)} on average, enough to be worth handing out."
        )
    finer = points[fastest + 1]
    cost = (finer.wall - best.wall) / (finer.tasks - best.tasks)
    computing = finer.task_seconds / finer.tasks
    threads = f"{grids.workers} thread{'s' if grids.workers > 1 else ''}"
    return (
        f"{text} Past it, tasks get too small to pay: at {finer.rows} x {finer.cols} tiles, "
        f"{finer.tasks - best.tasks:,} more tasks made the run {duration(finer.wall - best.wall)} slower, "
        f"**{duration(cost)} for each extra task**, more than sharing the work among {threads} saved"
        + (f", and more than a task there computes (**{duration(computing)}** on average)" if computing < cost else "")
        + ". Splitting further only adds work for the scheduler."
    )
