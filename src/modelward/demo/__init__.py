"""The end-to-end demo: credit-risk models on the UCI Statlog German Credit data.

The scenario lives in ``modelward.demo.scenario`` (imported on demand: it needs pandas and
scikit-learn); the data set ships in ``data/germancredit.csv`` (see NOTICE for attribution).
"""
