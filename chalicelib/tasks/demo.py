"""`demo.count`: a task that counts to n, for the tests, the local stack and anyone checking that
the task engine works. It can sleep between steps and fail on purpose."""

import time

from chalicelib.tasks.engine import Continue, TaskContext, TaskInputError, task


@task("demo.count")
def count(ctx: TaskContext) -> dict | Continue:
    n = ctx.params["n"]
    failure = ctx.params.get("fail")
    if failure == "input":
        raise TaskInputError("demo.count: asked to fail with an input error")
    if failure == "transient" and ctx.task["attempts"] <= ctx.params.get("fail_times", n + 1_000_000):
        raise RuntimeError(f"demo.count: transient failure on attempt {ctx.task['attempts']}")
    start = ctx.cursor or 0
    if start:
        ctx.log(f"resuming at {start}")
    for done in range(start, n):
        if ctx.deadline_near():
            ctx.log(f"deadline near after {done}; continuing in a new invocation")
            return Continue(done)
        time.sleep(ctx.params.get("sleep_seconds", 0))
        ctx.progress(done + 1, n, f"counted {done + 1} of {n}")
    ctx.save_artifact("count.csv", "n\n" + "".join(f"{i}\n" for i in range(1, n + 1)), "text/csv")
    ctx.log(f"counted to {n}")
    return {"counted": n}
