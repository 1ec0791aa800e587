"""Predictive models: buy-till-you-die order and spend models, churn propensity, clusters."""
