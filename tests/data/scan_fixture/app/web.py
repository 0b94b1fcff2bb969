"""More known bandit issues: eval, binding all interfaces, requests without a timeout."""
import requests

PASSWORD = "hunter2"


def compute(expr):
    return eval(expr)


def fetch(url):
    return requests.get(url, verify=False)


HOST = "0.0.0.0"
