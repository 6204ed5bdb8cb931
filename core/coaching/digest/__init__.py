"""A band's weekly digest (issue #14 §2): who did what, what is due, the band's numbers, next
week's focus — composed here for any platform; the tick sends it to the band's channel."""
