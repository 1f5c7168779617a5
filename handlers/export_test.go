package handlers

// Upload gives tests the route table's upload declaration, to mount a test double of an upload
// route on the real router (production has none until a feature needs one).
var Upload = upload
