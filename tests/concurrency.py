"""Real concurrency for tests on PostgreSQL: contenders in their own threads, released together."""

import threading

from django.db import connection

THREAD_TIMEOUT = 60


def run_together(*calls, start_reversed=False):
    """Run each callable in its own thread, all released at once by a barrier; return what each returned,
    in the order given. An exception in a thread (a 500 raises in the test client) fails the test.
    `start_reversed` starts the threads last to first: alternating it between rounds lets either side
    reach the row first."""
    barrier = threading.Barrier(len(calls), timeout=THREAD_TIMEOUT)
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in reversed(threads) if start_reversed else threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a contender hung"
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors
    return results


def post(client, url, body):
    def call():
        response = client.post(url, body)
        return response.status_code, response.json()

    return call
