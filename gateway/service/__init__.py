"""The long-running gateway service: file safety, watchers, transports, intake and the batcher.

This is the only asynchronous layer of the gateway (see DESIGN.md section 2).
"""
