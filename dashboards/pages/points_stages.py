"""Placeholder: being written."""

import streamlit as st

st.title("points_stages")
