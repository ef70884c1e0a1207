"""The one retry policy of the client and the batch runner."""

from __future__ import annotations

import httpx
import pytest

from hearkit.batch.runner import RunnerSettings
from hearkit.client import RetryPolicy


def test_backoff_doubles_up_to_the_cap_with_at_most_a_quarter_of_jitter() -> None:
    policy = RetryPolicy(max_retries=9, initial_delay=0.5, max_delay=8.0)
    for attempt, full in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]):
        waits = [policy.backoff(attempt) for _ in range(200)]
        assert all(0.75 * full <= w <= full for w in waits), (attempt, min(waits), max(waits))


def test_retry_after_is_a_minimum_unless_it_is_too_long() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    assert 3.0 <= (policy.delay(0, 3.0) or 0.0) <= 3.3
    assert policy.delay(0, 3600.0) is None


def test_only_safe_requests_are_retried() -> None:
    policy = RetryPolicy()
    url = "https://api.example/v1/transcription/jobs"
    get = httpx.Request("GET", f"{url}/j1")
    post = httpx.Request("POST", url)
    keyed = httpx.Request("POST", url, headers={"Idempotency-Key": "k"})
    assert policy.retryable(get, None) and policy.retryable(get, 503) and policy.retryable(get, 429)
    assert not policy.retryable(get, 404) and not policy.retryable(post, 503)
    assert policy.retryable(keyed, 500)


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="max_retries >= 0"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="delays >= 0"):
        RetryPolicy(initial_delay=-0.1)


def test_the_batch_runner_uses_the_same_policy_type() -> None:
    settings = RunnerSettings(max_attempts=5, retry_backoff=0.1)
    assert isinstance(settings.retry, RetryPolicy)
    assert settings.policy.attempts == 5 and settings.policy.initial_delay == 0.1
    assert settings.policy.max_delay == pytest.approx(6.4)
    given = RetryPolicy(max_retries=2)
    assert RunnerSettings(retry=given).policy is given and RunnerSettings(retry=given).max_attempts == 3


def test_polling_grows_by_the_factor_up_to_the_maximum_in_client_and_runner() -> None:
    from hearkit.client import PollPolicy

    poll = PollPolicy(initial=1.0, factor=1.5, maximum=5.0)
    waits = [poll.initial]
    for _ in range(6):
        waits.append(poll.after(waits[-1]))
    assert waits == [1.0, 1.5, 2.25, 3.375, 5.0, 5.0, 5.0]
    settings = RunnerSettings(poll_initial=0.05, poll_max=0.3)
    assert isinstance(settings.poll, PollPolicy)
    assert (settings.polling.initial, settings.polling.factor, settings.polling.maximum) == (0.05, 1.5, 0.3)
    with pytest.raises(ValueError, match="0 < initial <= maximum"):
        PollPolicy(initial=2.0, maximum=1.0)
