"""Locust's users for the managers' load phase (benchmarks/scenarios/managers.py runs `locust --headless` on it).

Manager: opens the dashboard, then polls it as static/js/dashboard-live.js does (every 5 s, If-None-Match: a 304
while nothing moved, again after 1 s, twice at most, when a 304 says changes are waiting), and now and then
switches period or category (opens the page again with the new query and polls that). Submitter: one agent
submitting complaints through the API at a steady rate. Settings from the environment (BENCH_LOAD_*), so that
this file holds nothing of a run.
"""

import json
import os
import random
import re
import time

from locust import HttpUser, between, constant_throughput, events, task

POLL_SECONDS = 5.0
SOON_SECONDS = 1.0
SOON_IN_A_ROW = 2
SWITCH_EVERY = 8  # polls, on average, between two switches of period or category
PERIODS = ("7", "30", "90", "180", "365")
VERSION = re.compile(r'data-figures-version="([0-9a-f]+)"')
HOST_HEADER = os.environ.get("BENCH_LOAD_HOST_HEADER", "bench.localhost")


@events.init.add_listener
def _seeded(environment, **kwargs):
    random.seed(int(os.environ.get("BENCH_LOAD_SEED", "23")))  # the same walk of switches every run


class Manager(HttpUser):
    wait_time = between(0, 0)  # each task waits as the page does, by itself

    def on_start(self):
        self.client.headers["Host"] = HOST_HEADER
        self.client.cookies.set("sessionid", os.environ["BENCH_LOAD_SESSION"])
        self.categories = [""] + os.environ.get("BENCH_LOAD_CATEGORIES", "").split(",")
        self.query = "period=30"
        self.version = ""
        self.soon_left = SOON_IN_A_ROW
        time.sleep(random.uniform(0, POLL_SECONDS))  # managers open their dashboards at different moments
        self.open_page()

    def open_page(self):
        with self.client.get(f"/dashboard/?{self.query}", name="page", catch_response=True) as response:
            match = VERSION.search(response.text or "")
            if response.status_code != 200 or not match:
                response.failure(f"HTTP {response.status_code}, no figures version")
                return
            self.version = match.group(1)

    @task
    def poll(self):
        started = time.perf_counter()
        wait = POLL_SECONDS
        with self.client.get(
            f"/dashboard/figures/?{self.query}",
            headers={"If-None-Match": f'"{self.version}"'},
            name="poll",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                self.version, self.soon_left = response.headers["ETag"].strip('"'), SOON_IN_A_ROW
                response.success()
            elif response.status_code == 304:
                response.success()
                if response.headers.get("X-Pending-Changes", "0") != "0" and self.soon_left:
                    wait, self.soon_left = SOON_SECONDS, self.soon_left - 1
            else:
                response.failure(f"HTTP {response.status_code}")
        time.sleep(max(wait - (time.perf_counter() - started), 0))
        if random.randrange(SWITCH_EVERY) == 0:
            category = random.choice(self.categories)
            self.query = f"period={random.choice(PERIODS)}" + (f"&category={category}" if category else "")
            self.open_page()


class Submitter(HttpUser):
    fixed_count = 1
    wait_time = constant_throughput(float(os.environ.get("BENCH_LOAD_RATE", "5")))

    def on_start(self):
        self.client.headers.update({"Host": HOST_HEADER, "Authorization": f"Token {os.environ['BENCH_LOAD_TOKEN']}"})
        self.body = json.dumps(
            {
                "title": "Bench",
                "description": "managers' load",
                "customer_name": "Bench",
                "customer_email": "b@example.com",
                "category": int(os.environ.get("BENCH_LOAD_CATEGORIES", "0").split(",")[0]),
                "priority": "medium",
            }
        )

    @task
    def submit(self):
        self.client.post(
            "/api/complaints/", data=self.body, headers={"Content-Type": "application/json"}, name="submit"
        )
