"""Evaluation helpers for tests and benchmarks: independent measurements of rendered video.

They use dlib's face models (from the dev requirements), which are not the MediaPipe models the renderer
uses, so a render is judged by a second opinion. dlib's 68-point model is for evaluation only: its
training data excludes commercial use. Nothing in the product path imports this package.
"""
