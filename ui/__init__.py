"""Streamlit helpers shared by the pages: the sidebar, server-wide caches and stage views.

Kept out of ``pages/`` so Streamlit does not list them as pages.
"""
